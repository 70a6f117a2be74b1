/*
 * The parsed config (engine/config.h): create, copy, free, look up and
 * print it back as vm.conf text that parses to the same config.
 */
#include <sys/queue.h>
#include <sys/types.h>

#include <grp.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "xmalloc.h"

/* An empty config. */
void
config_init(struct config *conf)
{
	memset(conf, 0, sizeof *conf);
	TAILQ_INIT(&conf->vms);
	TAILQ_INIT(&conf->switches);
	conf->socket_gid = (gid_t)-1;
	conf->limits.user_memory = CONF_LIMIT_USER_MEMORY;
	conf->limits.user_vcpus = CONF_LIMIT_USER_VCPUS;
	conf->limits.user_adhoc = CONF_LIMIT_USER_ADHOC;
	conf->limits.clients = CONF_LIMIT_CLIENTS;
	conf->limits.user_clients = CONF_LIMIT_USER_CLIENTS;
	conf->limits.subscribers = CONF_LIMIT_SUBSCRIBERS;
	conf->limits.waiters = CONF_LIMIT_WAITERS;
	conf->limits.queue_bytes = CONF_LIMIT_QUEUE_BYTES;
	conf->limits.hello_timeout = CONF_LIMIT_HELLO;
	conf->limits.include_files = CONF_LIMIT_INCLUDES;
	conf->limits.include_bytes = CONF_LIMIT_INCLUDE_BYTES;
	conf->console_log_size = CONF_CONSOLE_LOG_SIZE;
	conf->console_log_keep = CONF_CONSOLE_LOG_KEEP;
	conf->runner_uid_first = CONF_RUNNER_UID_FIRST;
	conf->runner_uid_count = CONF_RUNNER_UID_COUNT;
}

/* Free everything a config holds; it is empty again after. */
void
config_free(struct config *conf)
{
	struct conf_vm		*vm;
	struct conf_switch	*sw;

	while ((vm = TAILQ_FIRST(&conf->vms)) != NULL) {
		TAILQ_REMOVE(&conf->vms, vm, entry);
		conf_vm_free(vm);
	}
	while ((sw = TAILQ_FIRST(&conf->switches)) != NULL) {
		TAILQ_REMOVE(&conf->switches, sw, entry);
		free(sw->ifname);
		free(sw);
	}
	config_init(conf);
}

/* Free a VM that is on no list. */
void
conf_vm_free(struct conf_vm *vm)
{
	int	i, j;

	if (vm == NULL)
		return;
	free(vm->kernel);
	free(vm->initrd);
	free(vm->cmdline);
	free(vm->boot);
	free(vm->cdrom);
	for (i = 0; i < vm->ndisks; i++)
		free(vm->disks[i].path);
	for (i = 0; i < vm->nnics; i++) {
		free(vm->nics[i].switchname);
		for (j = 0; j < vm->nics[i].nhostfwd; j++)
			free(vm->nics[i].hostfwd[j]);
	}
	free(vm->cloudinit.user);
	free(vm->cloudinit.ssh_key);
	free(vm->cloudinit.user_data);
	free(vm->file);
	free(vm);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A deep copy of a VM, on no list. */
struct conf_vm *
conf_vm_dup(const struct conf_vm *vm)
{
	struct conf_vm	*copy;
	int		 i, j;

	copy = xmalloc(sizeof *copy);
	memcpy(copy, vm, sizeof *copy);
	memset(&copy->entry, 0, sizeof copy->entry);
	copy->kernel = dup_or_null(vm->kernel);
	copy->initrd = dup_or_null(vm->initrd);
	copy->cmdline = dup_or_null(vm->cmdline);
	copy->boot = dup_or_null(vm->boot);
	copy->cdrom = dup_or_null(vm->cdrom);
	for (i = 0; i < vm->ndisks; i++)
		copy->disks[i].path = dup_or_null(vm->disks[i].path);
	for (i = 0; i < vm->nnics; i++) {
		copy->nics[i].switchname = dup_or_null(vm->nics[i].switchname);
		for (j = 0; j < vm->nics[i].nhostfwd; j++) {
			copy->nics[i].hostfwd[j] =
			    dup_or_null(vm->nics[i].hostfwd[j]);
		}
	}
	copy->cloudinit.user = dup_or_null(vm->cloudinit.user);
	copy->cloudinit.ssh_key = dup_or_null(vm->cloudinit.ssh_key);
	copy->cloudinit.user_data = dup_or_null(vm->cloudinit.user_data);
	copy->file = dup_or_null(vm->file);
	return copy;
}

struct conf_vm *
config_find_vm(struct config *conf, const char *name)
{
	struct conf_vm	*vm;

	TAILQ_FOREACH(vm, &conf->vms, entry) {
		if (strcmp(vm->name, name) == 0)
			return vm;
	}
	return NULL;
}

/* A character a VM name may have: alphanumeric, or ._- after the first. */
static int
name_char(int c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '.' || c == '_' || c == '-');
}

int
config_valid_name(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i >= VM_NAME_MAX || !name_char((unsigned char)name[i],
		    i == 0))
			return 0;
	}
	return i > 0;
}

int
config_valid_login(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i >= 32 || (!name_char((unsigned char)name[i], 0)) ||
		    (i == 0 && name[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* Write s as a double-quoted vm.conf string. */
static void
print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			fputc(*s, f);
			break;
		}
	}
	fputc('"', f);
}

/* Write a size with the largest suffix that divides it exactly. */
static void
print_memory(FILE *f, uint64_t size)
{
	static const char	 suffix[] = "TGMK";
	int			 i, shift;

	for (i = 0; suffix[i] != '\0'; i++) {
		shift = 40 - 10 * i;
		if (size != 0 && (size & ((1ULL << shift) - 1)) == 0) {
			fprintf(f, "%llu%c",
			    (unsigned long long)(size >> shift), suffix[i]);
			return;
		}
	}
	fprintf(f, "%lluB", (unsigned long long)size);
}

/* Write user[:group] as names where they resolve, else as ids. */
static void
print_owner(FILE *f, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	struct group	*gr;
	char		*user, *group = NULL, *s;

	if ((pw = getpwuid(uid)) != NULL)
		user = xstrdup(pw->pw_name);
	else
		xasprintf(&user, "%u", (unsigned)uid);
	if (gid != (gid_t)-1) {
		if ((gr = getgrgid(gid)) != NULL)
			group = xstrdup(gr->gr_name);
		else
			xasprintf(&group, "%u", (unsigned)gid);
	}
	if (group != NULL)
		xasprintf(&s, "%s:%s", user, group);
	else
		s = xstrdup(user);
	print_string(f, s);
	free(s);
	free(user);
	free(group);
}

static void
print_nic(FILE *f, const struct conf_nic *nic)
{
	const uint8_t	*a = nic->lladdr;
	int		 i, block;

	fputs("\tinterface", f);
	if (nic->type == NIC_USER)
		fputs(" user", f);
	else if (nic->tapunit >= 0)
		fprintf(f, " tap%d", nic->tapunit);
	block = nic->switchname != NULL || nic->has_lladdr || !nic->up ||
	    nic->nhostfwd > 0 || nic->mtu != 0 || nic->has_restricted;
	if (!block) {
		fputc('\n', f);
		return;
	}
	fputs(" {\n", f);
	if (nic->switchname != NULL) {
		fputs("\t\tswitch ", f);
		print_string(f, nic->switchname);
		fputc('\n', f);
	}
	if (nic->has_lladdr) {
		fprintf(f, "\t\tlladdr %s%02x:%02x:%02x:%02x:%02x:%02x\n",
		    nic->locked ? "locked " : "", a[0], a[1], a[2], a[3],
		    a[4], a[5]);
	}
	for (i = 0; i < nic->nhostfwd; i++) {
		fputs("\t\thostfwd ", f);
		print_string(f, nic->hostfwd[i]);
		fputc('\n', f);
	}
	if (nic->mtu != 0)
		fprintf(f, "\t\tmtu %u\n", nic->mtu);
	if (nic->has_restricted)
		fprintf(f, "\t\trestricted %s\n", nic->unrestricted ? "no" :
		    "yes");
	if (!nic->up)
		fputs("\t\tdown\n", f);
	fputs("\t}\n", f);
}

static void
print_path(FILE *f, const char *key, const char *path)
{
	if (path == NULL)
		return;
	fprintf(f, "\t%s ", key);
	print_string(f, path);
	fputc('\n', f);
}

static void
print_cloudinit(FILE *f, const struct conf_cloudinit *ci)
{
	if (!ci->enabled)
		return;
	if (ci->user == NULL && ci->ssh_key == NULL && ci->user_data == NULL) {
		fputs("\tcloud-init\n", f);
		return;
	}
	fputs("\tcloud-init {\n", f);
	/* One tab more than a vm's own settings. */
	print_path(f, "\tuser", ci->user);
	print_path(f, "\tssh-key", ci->ssh_key);
	print_path(f, "\tuser-data", ci->user_data);
	fputs("\t}\n", f);
}

static void
print_vm(FILE *f, const struct conf_vm *vm)
{
	const struct conf_disk	*disk;
	int			 i;

	fputs("vm ", f);
	print_string(f, vm->name);
	fputs(" {\n\tmemory ", f);
	print_memory(f, vm->memory);
	fprintf(f, "\n\tvcpus %u\n", vm->vcpus);
	print_path(f, "kernel", vm->kernel);
	print_path(f, "initrd", vm->initrd);
	print_path(f, "cmdline", vm->cmdline);
	print_path(f, "boot", vm->boot);
	if (vm->boot_device != BOOT_DEFAULT)
		fprintf(f, "\tboot %s\n", vm->boot_device == BOOT_DISK ?
		    "disk" : "cdrom");
	print_path(f, "cdrom", vm->cdrom);
	for (i = 0; i < vm->ndisks; i++) {
		disk = &vm->disks[i];
		fputs("\tdisk ", f);
		print_string(f, disk->path);
		if (disk->format == DISK_FORMAT_RAW)
			fputs(" format raw", f);
		else if (disk->format == DISK_FORMAT_QCOW2)
			fputs(" format qcow2", f);
		fputc('\n', f);
	}
	for (i = 0; i < vm->nnics; i++)
		print_nic(f, &vm->nics[i]);
	print_cloudinit(f, &vm->cloudinit);
	if (vm->has_owner) {
		fputs("\towner ", f);
		print_owner(f, vm->uid, vm->gid);
		fputc('\n', f);
	}
	if (vm->enabled)
		fputs("\tenable\n", f);
	fputs("}\n", f);
}

/* The global figures that one statement of one value sets. */
static const struct {
	const char	*name;
	int		 is_size;
	size_t		 offset;	/* in struct conf_limits */
	size_t		 width;
} print_figures[] = {
#define FIGURE(name, size, field)					\
	{ name, size, offsetof(struct conf_limits, field),		\
	    sizeof(((struct conf_limits *)0)->field) }
	FIGURE("limit user memory", 1, user_memory),
	FIGURE("limit user vcpus", 0, user_vcpus),
	FIGURE("limit user adhoc", 0, user_adhoc),
	FIGURE("limit subscribers", 0, subscribers),
	FIGURE("limit waiters", 0, waiters),
	FIGURE("limit queue", 1, queue_bytes),
	FIGURE("limit hello-timeout", 0, hello_timeout),
	FIGURE("limit include files", 0, include_files),
	FIGURE("limit include bytes", 1, include_bytes),
#undef FIGURE
};

static uint64_t
figure_get(const struct conf_limits *l, size_t i)
{
	const char	*p = (const char *)l + print_figures[i].offset;
	uint64_t	 v64;
	uint32_t	 v32;

	if (print_figures[i].width == sizeof v64) {
		memcpy(&v64, p, sizeof v64);
		return v64;
	}
	memcpy(&v32, p, sizeof v32);
	return v32;
}

/* Write the allow kvm statements for ids, as names where they resolve. */
static void
print_allow(FILE *f, const char *what, const uint32_t *ids, int n)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*name;
	char		 num[16];
	int		 i;

	for (i = 0; i < n; i++) {
		name = NULL;
		if (what[0] == 'u' && (pw = getpwuid(ids[i])) != NULL)
			name = pw->pw_name;
		else if (what[0] == 'g' && (gr = getgrgid(ids[i])) != NULL)
			name = gr->gr_name;
		if (name == NULL) {
			snprintf(num, sizeof num, "%u", (unsigned)ids[i]);
			name = num;
		}
		fprintf(f, "allow kvm %s ", what);
		print_string(f, name);
		fputc('\n', f);
	}
}

/*
 * Write the global figures that differ from their defaults. Returns 1 if
 * it wrote any.
 */
static int
print_limits(struct config *conf, FILE *f)
{
	const struct conf_limits	*l = &conf->limits, *d;
	struct config			 def;
	uint64_t			 v;
	size_t				 i;
	int				 any = 0;

	config_init(&def);
	d = &def.limits;
	for (i = 0; i < sizeof print_figures / sizeof print_figures[0];
	    i++) {
		v = figure_get(l, i);
		if (v == figure_get(d, i))
			continue;
		fprintf(f, "%s ", print_figures[i].name);
		if (print_figures[i].is_size)
			print_memory(f, v);
		else
			fprintf(f, "%llu", (unsigned long long)v);
		fputc('\n', f);
		any = 1;
	}
	if (l->clients != d->clients || l->user_clients != d->user_clients) {
		fprintf(f, "limit clients %u per-user %u\n", l->clients,
		    l->user_clients);
		any = 1;
	}
	if (conf->console_log_size != def.console_log_size ||
	    conf->console_log_keep != def.console_log_keep) {
		fputs("console-log size ", f);
		print_memory(f, conf->console_log_size);
		fprintf(f, " keep %u\n", conf->console_log_keep);
		any = 1;
	}
	if (conf->runner_uid_first != def.runner_uid_first ||
	    conf->runner_uid_count != def.runner_uid_count) {
		fprintf(f, "runner-uids %u count %u\n",
		    (unsigned)conf->runner_uid_first, conf->runner_uid_count);
		any = 1;
	}
	print_allow(f, "user", conf->kvm_users, conf->nkvm_users);
	print_allow(f, "group", conf->kvm_groups, conf->nkvm_groups);
	return any || conf->nkvm_users > 0 || conf->nkvm_groups > 0;
}

static void
print_switch(FILE *f, const struct conf_switch *sw)
{
	fputs("switch ", f);
	print_string(f, sw->name);
	fputs(" {\n", f);
	if (sw->ifname != NULL) {
		fputs("\tinterface ", f);
		print_string(f, sw->ifname);
		fputc('\n', f);
	}
	if (!sw->up)
		fputs("\tdown\n", f);
	fputs("}\n", f);
}

/*
 * Write vm's block as vm.conf text, after the blocks of the switches of
 * conf that its interfaces use (conf may be NULL: the block alone).
 */
void
conf_vm_print(const struct conf_vm *vm, struct config *conf, FILE *f)
{
	struct conf_switch	*sw;
	int			 i;

	if (conf != NULL) {
		TAILQ_FOREACH(sw, &conf->switches, entry) {
			for (i = 0; i < vm->nnics; i++)
				if (vm->nics[i].switchname != NULL &&
				    strcmp(vm->nics[i].switchname,
				    sw->name) == 0)
					break;
			if (i < vm->nnics)
				print_switch(f, sw);
		}
	}
	print_vm(f, vm);
}

/* vm's block as vm.conf text (malloc'd), the one form two blocks compare. */
char *
conf_vm_text(const struct conf_vm *vm, struct config *conf)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	conf_vm_print(vm, conf, f);
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return text;
}

/* Whether two blocks differ in anything their vm.conf text says. */
int
conf_vm_differs(const struct conf_vm *a, const struct conf_vm *b)
{
	char	*ta = conf_vm_text(a, NULL), *tb = conf_vm_text(b, NULL);
	int	 rv = strcmp(ta, tb) != 0;

	free(ta);
	free(tb);
	return rv;
}

/* Write the config as vm.conf text, a blank line between blocks. */
void
config_print(struct config *conf, FILE *f)
{
	struct conf_switch	*sw;
	struct conf_vm		*vm;
	int			 blank = 0;

	if (conf->stagger_parallel > 0) {
		fprintf(f, "staggered start parallel %d delay %d\n",
		    conf->stagger_parallel, conf->stagger_delay);
		blank = 1;
	}
	if (conf->has_socket_owner) {
		fputs("socket owner ", f);
		print_owner(f, conf->socket_uid, conf->socket_gid);
		fputc('\n', f);
		blank = 1;
	}
	if (print_limits(conf, f))
		blank = 1;
	TAILQ_FOREACH(sw, &conf->switches, entry) {
		if (blank)
			fputc('\n', f);
		blank = 1;
		print_switch(f, sw);
	}
	TAILQ_FOREACH(vm, &conf->vms, entry) {
		if (blank)
			fputc('\n', f);
		blank = 1;
		print_vm(f, vm);
	}
}

const char *
conf_vm_bios(const struct conf_vm *vm)
{
	return vm->boot != NULL ? vm->boot : CONF_DEFAULT_BIOS;
}

int
conf_vm_cdrom_first(const struct conf_vm *vm)
{
	return vm->cdrom != NULL && (vm->boot_device == BOOT_CDROM ||
	    (vm->boot_device == BOOT_DEFAULT && vm->ndisks == 0));
}

/*
 * The vm.conf parser, after OpenBSD vmd's parse.y: a hand-written lexer
 * (include stack, $macro expansion, quoting, comments, line continuation)
 * feeding a yacc grammar that fills a struct config.
 *
 * Statements end with a newline or a semicolon; the lexer also puts an
 * implicit ';' before every '}', so the last statement of a block needs no
 * separator. Errors are written as "file:line: message" and parsing goes
 * on at the next statement, so one run reports every error in a file.
 *
 * Strings the lexer returns live in a pool that is freed when the parse
 * ends, so error recovery can drop tokens without leaking them; anything
 * kept in the config is copied out with xstrdup.
 */

%{
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hostfwd.h"
#include "size.h"
#include "slirpmsg.h"
#include "vmcheck.h"
#include "xmalloc.h"

/* Keep the yacc globals out of the way of any other parser. */
#define yyparse		parse_yyparse
#define yylval		parse_yylval
#define yychar		parse_yychar
#define yynerrs		parse_yynerrs
#define yydebug		parse_yydebug

#define PARSE_MAX_DEPTH		8		/* nested includes */
#define PARSE_MAX_TOKEN		8192		/* longest word or string */
#define PARSE_MAX_FILE		(4 << 20)	/* largest file read */

/* Bounds of the global figures (the defaults are in config.h). */
#define PARSE_MIN_QUEUE		(128ULL << 10)	/* two whole messages */
#define PARSE_MAX_QUEUE		(1ULL << 30)
#define PARSE_MAX_HELLO		3600
#define PARSE_MAX_INCLUDES	4096
#define PARSE_MAX_INCLUDE_BYTES	(256ULL << 20)
#define PARSE_MIN_LOG		(4ULL << 10)
#define PARSE_MAX_LOG_KEEP	100

/* pushfile's errors beyond errno values. */
#define PARSE_ENOTREG		-1	/* neither a file nor a directory */
#define PARSE_ELOOP		-2	/* a file that is being read */
#define PARSE_EBYTES		-3	/* past limits.include_bytes */

/* Markers around a macro's text in the pushback; outside the byte range. */
#define START_EXPAND		0x100
#define DONE_EXPAND		0x101

struct file {
	TAILQ_ENTRY(file)	 entry;
	struct file		*parent;
	char			*name;
	char			*dir;		/* for relative includes */
	char			*buf;
	size_t			 len;
	size_t			 off;
	int			 depth;
	dev_t			 dev;		/* 0, 0 for text */
	ino_t			 ino;
	int			 lineno;	/* line of the last byte read */
	int			 prevnl;	/* the last byte was '\n' */
	int			 eof;		/* the last '\n' was sent */
	int			 expanding;	/* inside a macro's text */
	int			*pushback;
	size_t			 npushback;
	size_t			 pushbacksize;
};

struct sym {
	TAILQ_ENTRY(sym)	 entry;
	char			*name;
	char			*value;
};

struct poolstr {
	SLIST_ENTRY(poolstr)	 entry;
	char			 s[];
};

typedef struct {
	char		*string;
	int64_t		 number;
	struct file	*file;
	int		 lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

static TAILQ_HEAD(, file)	 files;
static TAILQ_HEAD(, sym)	 symhead;
static SLIST_HEAD(, poolstr)	 pool;
static struct file		*file;
static struct config		*conf;
static FILE			*errout;
static int			 errors;
static int			 brace_sep;	/* sent the ';' before '}' */
static int			 brace_depth;	/* '{' not yet closed */
static int			 brace_depth_before; /* before the last token */
static int			 recovering;	/* after a syntax error */
static int			 recover_depth;	/* brace_depth at the error */
static int			 lex_failed;	/* the lexer said what failed */
static struct file		*lex_file;	/* where the last token began */
static int			 lex_line;
static int			 lex_eof;	/* the last token was the end */
static uint32_t			 included;	/* inclusions so far */
static uint64_t			 bytes_read;	/* by every file so far */
static int			 include_stopped; /* a limit was reached */

static struct conf_vm		*curvm;
static const char		*curvm_name;	/* as written, for messages */
static int			 curvm_drop;	/* invalid or duplicate name */
static int			 curvm_has_memory;
static int			 curvm_has_vcpus;
static struct conf_nic		*curnic;
static struct conf_nic		 nic_scratch;	/* a NIC past the limit */
static struct conf_cloudinit	*curci;
static struct conf_cloudinit	 ci_scratch;	/* a second cloud-init block */
static struct conf_switch	*cursw;
static struct file		*cursw_file;
static int			 cursw_drop;
static int			 cursw_errors;	/* errors before the block */

/* Error recovery reached the end of a statement. */
#define RECOVERED() do {						\
	yyerrok;							\
	recovering = 0;							\
} while (0)

int		 yyparse(void);
static int	 yylex(void);
static int	 yyerror(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	 errorat(struct file *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 vmerror(const YYSTYPE *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 vm_error_at_vm(struct conf_vm *, const char *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	 verror(const char *, int, const char *, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));

static struct file *pushfile(const char *, const char *, struct file *,
		    int *);
static void	 include_file(YYSTYPE *);
static char	*pool_strdup(const char *);
static void	 pool_release(int);
static void	 symset(const char *, const char *);
static const char *symget(const char *);
static int	 parse_number(const char *, int64_t, int64_t, int64_t *);
static void	 nic_clear(struct conf_nic *);
static int	 parse_owner(const YYSTYPE *, const char *, const char *,
		    uid_t *, gid_t *);
static int	 parse_user(const char *, uid_t *);
static int	 parse_group(const char *, gid_t *);
static void	 setting_set(const YYSTYPE *, const char *, const YYSTYPE *);
static void	 setting_set2(const YYSTYPE *, const char *, const YYSTYPE *,
		    const YYSTYPE *);
static void	 set_clients(const YYSTYPE *, const YYSTYPE *, const YYSTYPE *,
		    const YYSTYPE *, const YYSTYPE *);
static void	 set_console_log(const YYSTYPE *, const YYSTYPE *,
		    const YYSTYPE *, const YYSTYPE *, const YYSTYPE *);
static void	 set_runner_uids(const YYSTYPE *, const YYSTYPE *,
		    const YYSTYPE *, const YYSTYPE *);
static void	 allow_kvm(const YYSTYPE *, const YYSTYPE *, const char *,
		    const YYSTYPE *);
static int	 parse_lladdr(const char *, uint8_t *);
static const char *parse_hostfwd(const char *);
static const char *hostfwd_taken(struct conf_nic *, const char *);
static int	 valid_ifname(const char *);
static int	 valid_macro_name(const char *);
static int	 set_path(const YYSTYPE *, const char *, char **,
		    const char *);
static void	 set_owner_path(const YYSTYPE *, const char *, char **,
		    const char *);
static void	 set_stagger(const YYSTYPE *, const YYSTYPE *,
		    const YYSTYPE *);
static void	 set_boot_device(const YYSTYPE *, uint32_t);
static void	 vm_begin(YYSTYPE *, YYSTYPE *);
static void	 vm_end(void);
static void	 nic_begin(YYSTYPE *, YYSTYPE *);
static void	 cloudinit_begin(const YYSTYPE *);
static void	 cloudinit_end(const YYSTYPE *);
static void	 switch_begin(YYSTYPE *, YYSTYPE *);
static void	 switch_end(void);
static struct conf_switch *find_switch(const char *);
static void	 check_switches(void);
%}

%token	ALLOW BOOT CDROM CLOUDINIT CMDLINE CONSOLELOG DELAY DISABLE DISK DOWN
%token	ENABLE
%token	FORMAT HOSTFWD INCLUDE INITRD INTERFACE KERNEL LIMIT LLADDR LOCKED
%token	MEMORY MTU OWNER PARALLEL RESTRICTED RUNNERUIDS SOCKET STAGGERED START
%token	SSHKEY SWITCH UP USER USERDATA VCPUS VM
%token	STRING ERROR

%%

grammar		: /* empty */
		| grammar sep			{ pool_release(yychar); }
		| grammar statement sep		{ pool_release(yychar); }
		| grammar INCLUDE STRING sep	{
			include_file(&$3);
			pool_release(yychar);
		}
		| grammar error sep		{
			RECOVERED();
			pool_release(yychar);
		}
		;

sep		: '\n'
		| ';'
		;

statement	: varset
		| stagger
		| socketowner
		| limit
		| consolelog
		| runneruids
		| allowkvm
		| vm
		| switch
		;

varset		: STRING '=' STRING		{
			if (!valid_macro_name($1.string))
				errorat($1.file, $1.lineno, "invalid macro "
				    "name \"%s\" (letters, digits and _ only)",
				    $1.string);
			else
				symset($1.string, $3.string);
		}
		;

stagger		: STAGGERED START PARALLEL STRING DELAY STRING {
			set_stagger(&$1, &$4, &$6);
		}
		;

socketowner	: SOCKET OWNER STRING		{
			uid_t	uid;
			gid_t	gid;

			if (conf->has_socket_owner)
				errorat($1.file, $1.lineno,
				    "socket owner is set more than once");
			else if (parse_owner(&$3, NULL, $3.string, &uid,
			    &gid) == 0) {
				conf->has_socket_owner = 1;
				conf->socket_uid = uid;
				conf->socket_gid = gid;
			}
		}
		;

limit		: LIMIT USER MEMORY STRING	{
			setting_set(&$1, "limit user memory", &$4);
		}
		| LIMIT USER VCPUS STRING	{
			setting_set(&$1, "limit user vcpus", &$4);
		}
		| LIMIT USER STRING STRING	{
			setting_set2(&$1, "limit user", &$3, &$4);
		}
		| LIMIT INCLUDE STRING STRING	{
			setting_set2(&$1, "limit include", &$3, &$4);
		}
		| LIMIT STRING STRING		{
			setting_set2(&$1, "limit", &$2, &$3);
		}
		| LIMIT STRING STRING STRING STRING {
			set_clients(&$1, &$2, &$3, &$4, &$5);
		}
		;

consolelog	: CONSOLELOG STRING STRING	{
			set_console_log(&$1, &$2, &$3, NULL, NULL);
		}
		| CONSOLELOG STRING STRING STRING STRING {
			set_console_log(&$1, &$2, &$3, &$4, &$5);
		}
		;

runneruids	: RUNNERUIDS STRING STRING STRING {
			set_runner_uids(&$1, &$2, &$3, &$4);
		}
		;

allowkvm	: ALLOW STRING USER STRING	{
			allow_kvm(&$1, &$2, "user", &$4);
		}
		| ALLOW STRING STRING STRING	{
			allow_kvm(&$1, &$2, $3.string, &$4);
		}
		;

vm		: VM STRING			{ vm_begin(&$1, &$2); }
		    '{' vmlines '}'		{ vm_end(); }
		;

vmlines		: /* empty */
		| vmlines sep
		| vmlines vmopt sep
		| vmlines error sep		{ RECOVERED(); }
		;

vmopt		: MEMORY STRING			{
			const char	*why;
			uint64_t	 size;
			int		 bad = 0;

			if (size_scan($2.string, SIZE_MIB, &size) == -1) {
				bad = errno == EINVAL;
				size = UINT64_MAX;
			}
			if (curvm_has_memory)
				vmerror(&$1,
				    "memory is set more than once");
			else if (bad)
				vmerror(&$1, "invalid memory size \"%s\" (a "
				    "number with an optional K, M, G or T)",
				    $2.string);
			else if ((why = vmcheck_memory(size)) != NULL)
				vmerror(&$1, "memory %s %s", $2.string, why);
			else {
				curvm->memory = size;
				curvm_has_memory = 1;
			}
		}
		| VCPUS STRING			{
			const char	*why;
			int64_t		 n;
			int		 rv;

			rv = parse_number($2.string, 0, INT64_MAX, &n);
			if (rv == -2)
				n = INT64_MAX;
			if (curvm_has_vcpus)
				vmerror(&$1,
				    "vcpus is set more than once");
			else if (rv == -1)
				vmerror(&$1, "vcpus \"%s\" is not a number",
				    $2.string);
			else if ((why = vmcheck_vcpus(n)) != NULL)
				vmerror(&$1, "vcpus %s %s", $2.string, why);
			else {
				curvm->vcpus = n;
				curvm_has_vcpus = 1;
			}
		}
		| KERNEL STRING			{
			set_path(&$1, "kernel", &curvm->kernel, $2.string);
		}
		| INITRD STRING			{
			set_path(&$1, "initrd", &curvm->initrd, $2.string);
		}
		| BOOT STRING			{
			set_path(&$1, "boot", &curvm->boot, $2.string);
		}
		| BOOT DISK			{
			set_boot_device(&$1, BOOT_DISK);
		}
		| BOOT CDROM			{
			set_boot_device(&$1, BOOT_CDROM);
		}
		| CDROM STRING			{
			set_path(&$1, "cdrom", &curvm->cdrom, $2.string);
		}
		| CMDLINE STRING		{
			if (curvm->cmdline != NULL)
				vmerror(&$1,
				    "cmdline is set more than once");
			else if (strlen($2.string) >= VM_CMDLINE_SIZE)
				vmerror(&$1, "cmdline is too long (at "
				    "most %d characters)", VM_CMDLINE_SIZE - 1);
			else
				curvm->cmdline = xstrdup($2.string);
		}
		| DISK STRING diskformat	{
			struct conf_disk	*disk;
			const char		*why;
			char			*path = NULL;

			if ((why = vmcheck_disks(curvm->ndisks + 1)) != NULL)
				vmerror(&$1, "%s", why);
			else if (set_path(&$1, "disk", &path,
			    $2.string) == 0) {
				disk = &curvm->disks[curvm->ndisks++];
				disk->path = path;
				disk->format = $3.number;
			}
		}
		| INTERFACE nicname		{ nic_begin(&$1, &$2); }
		    nicblock			{ curnic = NULL; }
		| CLOUDINIT			{ cloudinit_begin(&$1); }
		    ciblock			{ cloudinit_end(&$1); }
		| OWNER STRING			{
			uid_t	uid;
			gid_t	gid;

			if (curvm->has_owner)
				vmerror(&$1,
				    "owner is set more than once");
			else if (parse_owner(&$2, curvm_name, $2.string, &uid,
			    &gid) == 0) {
				curvm->has_owner = 1;
				curvm->uid = uid;
				curvm->gid = gid;
			}
		}
		| ENABLE			{ curvm->enabled = 1; }
		| DISABLE			{ curvm->enabled = 0; }
		;

diskformat	: /* empty */			{
			$$.number = DISK_FORMAT_AUTO;
		}
		| FORMAT STRING			{
			if (strcmp($2.string, "raw") == 0)
				$$.number = DISK_FORMAT_RAW;
			else if (strcmp($2.string, "qcow2") == 0)
				$$.number = DISK_FORMAT_QCOW2;
			else {
				vmerror(&$1, "unknown disk format \"%s\" "
				    "(raw or qcow2)", $2.string);
				$$.number = DISK_FORMAT_AUTO;
			}
		}
		;

nicname		: /* empty */			{
			$$.string = NULL;
			$$.number = NIC_TAP;
		}
		| STRING			{
			$$ = $1;
			$$.number = NIC_TAP;
		}
		| USER				{
			$$ = $1;
			$$.string = NULL;
			$$.number = NIC_USER;
		}
		;

nicblock	: /* empty */
		| '{' niclines '}'
		;

niclines	: /* empty */
		| niclines sep
		| niclines nicopt sep
		| niclines error sep		{ RECOVERED(); }
		;

nicopt		: SWITCH STRING			{
			if (curnic->type == NIC_USER)
				vmerror(&$1, "switch is not allowed on "
				    "interface user");
			else if (curnic->switchname != NULL)
				vmerror(&$1,
				    "switch is set more than once");
			else if (!config_valid_name($2.string))
				vmerror(&$1, "invalid switch name \"%s\"",
				    $2.string);
			else
				curnic->switchname = xstrdup($2.string);
		}
		| LLADDR locked STRING		{
			if (curnic->type == NIC_USER)
				vmerror(&$1, "lladdr is not allowed on "
				    "interface user");
			else if (curnic->has_lladdr)
				vmerror(&$1,
				    "lladdr is set more than once");
			else if (parse_lladdr($3.string, curnic->lladdr) != 0)
				vmerror(&$1, "invalid lladdr \"%s\" "
				    "(six hex bytes like 52:54:00:12:34:56, "
				    "not multicast)", $3.string);
			else {
				curnic->has_lladdr = 1;
				curnic->locked = $2.number;
			}
		}
		| LOCKED LLADDR STRING		{
			if (curnic->type == NIC_USER)
				vmerror(&$1, "lladdr is not allowed on "
				    "interface user");
			else if (curnic->has_lladdr)
				vmerror(&$1,
				    "lladdr is set more than once");
			else if (parse_lladdr($3.string, curnic->lladdr) != 0)
				vmerror(&$1, "invalid lladdr \"%s\" "
				    "(six hex bytes like 52:54:00:12:34:56, "
				    "not multicast)", $3.string);
			else {
				curnic->has_lladdr = 1;
				curnic->locked = 1;
			}
		}
		| MTU STRING			{
			int64_t	n;
			int	rv;

			rv = parse_number($2.string, SLIRP_MTU_MIN,
			    SLIRP_MTU_MAX, &n);
			if (curnic->mtu != 0)
				vmerror(&$1, "mtu is set more than once");
			else if (rv == -1)
				vmerror(&$1, "mtu \"%s\" is not a number",
				    $2.string);
			else if (rv == -2)
				vmerror(&$1, "mtu %s is out of range (%d to "
				    "%d)", $2.string, SLIRP_MTU_MIN,
				    SLIRP_MTU_MAX);
			else
				curnic->mtu = n;
		}
		| RESTRICTED STRING		{
			if (curnic->type != NIC_USER)
				vmerror(&$1, "restricted is only allowed on "
				    "interface user");
			else if (curnic->has_restricted)
				vmerror(&$1,
				    "restricted is set more than once");
			else if (strcmp($2.string, "yes") == 0)
				curnic->has_restricted = 1;
			else if (strcmp($2.string, "no") == 0) {
				curnic->has_restricted = 1;
				curnic->unrestricted = 1;
			} else
				vmerror(&$1, "restricted \"%s\": expected "
				    "yes or no", $2.string);
		}
		| UP				{ curnic->up = 1; }
		| DOWN				{ curnic->up = 0; }
		| HOSTFWD STRING		{
			const char	*why;

			if (curnic->type != NIC_USER)
				vmerror(&$1, "hostfwd is only allowed on "
				    "interface user");
			else if (curnic->nhostfwd >= VM_MAX_HOSTFWD)
				vmerror(&$1, "too many hostfwd rules (at "
				    "most %d)", VM_MAX_HOSTFWD);
			else if ((why = parse_hostfwd($2.string)) != NULL)
				vmerror(&$1, "invalid hostfwd rule \"%s\": "
				    "%s", $2.string, why);
			else if ((why = hostfwd_taken(curnic, $2.string)) !=
			    NULL)
				vmerror(&$1, "hostfwd \"%s\" uses the same host "
				    "port as \"%s\"", $2.string, why);
			else {
				curnic->hostfwd[curnic->nhostfwd++] =
				    xstrdup($2.string);
			}
		}
		;

ciblock		: /* empty */
		| '{' cilines '}'
		;

cilines		: /* empty */
		| cilines sep
		| cilines ciopt sep
		| cilines error sep		{ RECOVERED(); }
		;

ciopt		: USER STRING			{
			if (curci->user != NULL)
				vmerror(&$1, "cloud-init: user is set more "
				    "than once");
			else if (!config_valid_login($2.string))
				vmerror(&$1, "cloud-init: invalid user \"%s\" "
				    "(1-32 letters, digits, '.', '_' or '-', "
				    "not starting with '-')", $2.string);
			else
				curci->user = xstrdup($2.string);
		}
		| SSHKEY STRING			{
			set_owner_path(&$1, "cloud-init: ssh-key",
			    &curci->ssh_key, $2.string);
		}
		| USERDATA STRING		{
			set_owner_path(&$1, "cloud-init: user-data",
			    &curci->user_data, $2.string);
		}
		;

locked		: /* empty */			{ $$.number = 0; }
		| LOCKED			{ $$.number = 1; }
		;

switch		: SWITCH STRING			{ switch_begin(&$1, &$2); }
		    '{' swlines '}'		{ switch_end(); }
		;

swlines		: /* empty */
		| swlines sep
		| swlines swopt sep
		| swlines error sep		{ RECOVERED(); }
		;

swopt		: INTERFACE STRING		{
			struct conf_switch	*sw;

			if (cursw->ifname != NULL)
				errorat($1.file, $1.lineno, "switch \"%s\": "
				    "interface is set more than once",
				    cursw->name);
			else if (!valid_ifname($2.string))
				errorat($1.file, $1.lineno, "switch \"%s\": "
				    "invalid interface name \"%s\" (1-15 "
				    "characters, no '/', ':' or spaces)",
				    cursw->name, $2.string);
			else {
				TAILQ_FOREACH(sw, &conf->switches, entry) {
					if (sw->ifname != NULL &&
					    strcmp(sw->ifname, $2.string) == 0)
						break;
				}
				if (sw != NULL)
					errorat($1.file, $1.lineno, "switch "
					    "\"%s\": interface %s is already "
					    "used by switch \"%s\"",
					    cursw->name, $2.string, sw->name);
				else
					cursw->ifname = xstrdup($2.string);
			}
		}
		| UP				{ cursw->up = 1; }
		| DOWN				{ cursw->up = 0; }
		;

%%

struct keywords {
	const char	*name;
	int		 token;
};

/* Report an error at the token the lexer returned last. */
static int
yyerror(const char *fmt, ...)
{
	va_list	ap;

	if (strcmp(fmt, "syntax error") == 0) {
		/* Braces opened from here on are skipped whole. */
		recovering = 1;
		recover_depth = brace_depth_before;
	}
	if (lex_failed && strcmp(fmt, "syntax error") == 0) {
		/* The lexer has already said what is wrong. */
		lex_failed = 0;
		return 0;
	}
	if (lex_eof && strcmp(fmt, "syntax error") == 0)
		fmt = "syntax error at end of file";
	va_start(ap, fmt);
	verror(lex_file->name, lex_line, NULL, fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * Count an error and write "file:line: message" to errout (nothing if it
 * is NULL), the message prefixed with the VM's name if vmname != NULL.
 */
static void
verror(const char *fname, int line, const char *vmname, const char *fmt,
    va_list ap)
{
	errors++;
	if (errout == NULL)
		return;
	fprintf(errout, "%s:%d: ", fname, line);
	if (vmname != NULL)
		fprintf(errout, "vm \"%s\": ", vmname);
	vfprintf(errout, fmt, ap);
	fputc('\n', errout);
}

/* Report an error at a given file and line. */
static void
errorat(struct file *f, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verror(f->name, line, NULL, fmt, ap);
	va_end(ap);
}

/* Report an error in the current VM block, at a token's line. */
static void
vmerror(const YYSTYPE *tok, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verror(tok->file->name, tok->lineno, curvm_name, fmt, ap);
	va_end(ap);
}

/* Report an error about a whole VM, at the line of its vm statement. */
static void
vm_error_at_vm(struct conf_vm *vm, const char *name, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	verror(vm->file, vm->line, name, fmt, ap);
	va_end(ap);
}

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keywords *)e)->name);
}

/* The token for a word: a keyword, or STRING. */
static int
lookup(const char *s)
{
	/* This table must stay sorted. */
	static const struct keywords keywords[] = {
		{ "allow",	ALLOW },
		{ "boot",	BOOT },
		{ "cdrom",	CDROM },
		{ "cloud-init",	CLOUDINIT },
		{ "cmdline",	CMDLINE },
		{ "console-log", CONSOLELOG },
		{ "delay",	DELAY },
		{ "disable",	DISABLE },
		{ "disk",	DISK },
		{ "down",	DOWN },
		{ "enable",	ENABLE },
		{ "format",	FORMAT },
		{ "hostfwd",	HOSTFWD },
		{ "include",	INCLUDE },
		{ "initrd",	INITRD },
		{ "interface",	INTERFACE },
		{ "kernel",	KERNEL },
		{ "limit",	LIMIT },
		{ "lladdr",	LLADDR },
		{ "locked",	LOCKED },
		{ "memory",	MEMORY },
		{ "mtu",	MTU },
		{ "owner",	OWNER },
		{ "parallel",	PARALLEL },
		{ "restricted",	RESTRICTED },
		{ "runner-uids", RUNNERUIDS },
		{ "socket",	SOCKET },
		{ "ssh-key",	SSHKEY },
		{ "staggered",	STAGGERED },
		{ "start",	START },
		{ "switch",	SWITCH },
		{ "up",		UP },
		{ "user",	USER },
		{ "user-data",	USERDATA },
		{ "vcpus",	VCPUS },
		{ "vm",		VM },
	};
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof keywords / sizeof keywords[0],
	    sizeof keywords[0], kw_cmp);
	return p != NULL ? p->token : STRING;
}

/* A copy of s that lives until the parse ends. */
static char *
pool_strdup(const char *s)
{
	struct poolstr	*ps;
	size_t		 len = strlen(s);

	ps = xmalloc(sizeof *ps + len + 1);
	memcpy(ps->s, s, len + 1);
	SLIST_INSERT_HEAD(&pool, ps, entry);
	return ps->s;
}

/*
 * At the end of a statement outside blocks, free the strings of the
 * tokens read so far; none is needed once the statement is done, unless
 * the parser has already read the next token (lookahead is not YYEMPTY).
 */
static void
pool_release(int lookahead)
{
	struct poolstr	*ps;

	if (lookahead != YYEMPTY || curvm != NULL || cursw != NULL)
		return;
	while ((ps = SLIST_FIRST(&pool)) != NULL) {
		SLIST_REMOVE_HEAD(&pool, entry);
		free(ps);
	}
}

/* The next byte of a file, then one final '\n', then EOF. */
static int
igetc(struct file *f)
{
	int	c;

	if (f->off >= f->len) {
		if (f->eof)
			return EOF;
		f->eof = 1;
		return '\n';
	}
	c = (unsigned char)f->buf[f->off++];
	if (f->prevnl)
		f->lineno++;
	f->prevnl = (c == '\n');
	return c;
}

/* Push a character back onto the current file. */
static void
lungetc(int c)
{
	if (c == EOF)
		return;
	if (file->npushback == file->pushbacksize) {
		file->pushbacksize = file->pushbacksize * 2 + 64;
		file->pushback = xreallocarray(file->pushback,
		    file->pushbacksize, sizeof *file->pushback);
	}
	file->pushback[file->npushback++] = c;
}

/*
 * The next character: pushed back ones first, then the file's. Outside
 * quotes a backslash-newline is skipped, and the end of an included file
 * goes back to the file that included it.
 */
static int
lgetc(int quotec)
{
	int	c, next;

	if (file->npushback > 0)
		return file->pushback[--file->npushback];
	if (quotec)
		return igetc(file);

	for (;;) {
		c = igetc(file);
		if (c == '\\') {
			next = igetc(file);
			if (next == '\n')
				continue;
			lungetc(next);
			return c;
		}
		if (c != EOF || file->parent == NULL)
			return c;
		/* Done with it: only its name is still needed, for messages. */
		free(file->buf);
		file->buf = NULL;
		file->len = file->off = 0;
		free(file->pushback);
		file->pushback = NULL;
		file->npushback = file->pushbacksize = 0;
		file = file->parent;
		if (file->npushback > 0)
			return file->pushback[--file->npushback];
	}
}

/* Bytes that may appear in an unquoted word. */
static int
allowed_in_string(int c)
{
	if (c >= 0x80 && c <= 0xff)
		return 1;
	if (c < 0 || c > 0x7f)
		return 0;
	if (isalnum(c))
		return 1;
	if (!ispunct(c))
		return 0;
	return strchr("(){}<>!=#,;\"'\\", c) == NULL;
}

/* Read a quoted string; returns STRING or ERROR. */
static int
lex_quoted(int quotec, char *buf)
{
	char	*p = buf;
	int	 c, next;

	for (;;) {
		c = lgetc(quotec);
		if (c == '\\') {
			next = lgetc(quotec);
			if (next == '\n')
				continue;
			if (next == quotec || next == '\\')
				c = next;
			else if (next == 'n')
				c = '\n';
			else if (next == 't')
				c = '\t';
			else
				lungetc(next);
		} else if (c == quotec) {
			*p = '\0';
			break;
		} else if (c == '\n' || c == EOF || c == DONE_EXPAND) {
			lungetc(c);
			yyerror("unterminated quoted string");
			lex_failed = 1;
			return ERROR;
		} else if (c == '\0') {
			yyerror("NUL byte in a quoted string");
			lex_failed = 1;
			return ERROR;
		}
		if (p + 1 >= buf + PARSE_MAX_TOKEN) {
			/* Skip to the end of the string. */
			while ((c = lgetc(quotec)) != quotec && c != '\n' &&
			    c != EOF && c != DONE_EXPAND)
				;
			if (c != quotec)
				lungetc(c);
			yyerror("string is too long (at most %d characters)",
			    PARSE_MAX_TOKEN - 1);
			lex_failed = 1;
			return ERROR;
		}
		*p++ = c;
	}
	yylval.string = pool_strdup(buf);
	return STRING;
}

/*
 * Expand $name (the '$' has been read): push its text back between
 * markers, so it is read as if written in its place; it is not expanded
 * again. Returns 0, or ERROR after an error.
 */
static int
lex_macro(void)
{
	char		 buf[PARSE_MAX_TOKEN];
	const char	*val;
	char		*p = buf;
	int		 c;
	size_t		 i;

	for (;;) {
		c = lgetc(0);
		if (c < 0 || c > 0x7f || (!isalnum(c) && c != '_')) {
			lungetc(c);
			break;
		}
		if (p + 1 >= buf + PARSE_MAX_TOKEN) {
			yyerror("macro name is too long");
			lex_failed = 1;
			return ERROR;
		}
		*p++ = c;
	}
	*p = '\0';
	if (buf[0] == '\0') {
		yyerror("a macro name must follow $");
		lex_failed = 1;
		return ERROR;
	}
	if ((val = symget(buf)) == NULL) {
		yyerror("macro \"%s\" is not defined", buf);
		lex_failed = 1;
		return ERROR;
	}
	lungetc(DONE_EXPAND);
	for (i = strlen(val); i > 0; i--)
		lungetc((unsigned char)val[i - 1]);
	lungetc(START_EXPAND);
	return 0;
}

/*
 * The next token: a keyword, STRING (a word or a quoted string), '\n', ';',
 * '{', '}', '=', 0 at the end, or ERROR after a reported error.
 */
static int
yylex(void)
{
	char	 buf[PARSE_MAX_TOKEN];
	char	*p;
	int	 c, token, toolong;

	lex_failed = 0;
	lex_eof = 0;
	brace_depth_before = brace_depth;
top:
	while ((c = lgetc(0)) == ' ' || c == '\t' || c == '\r')
		;
	lex_file = yylval.file = file;
	lex_line = yylval.lineno = file->lineno;
	yylval.string = NULL;
	yylval.number = 0;

	if (c == '#') {
		while ((c = lgetc(0)) != '\n' && c != EOF && c != DONE_EXPAND)
			;
	}
	if (c == START_EXPAND) {
		file->expanding = 1;
		goto top;
	}
	if (c == DONE_EXPAND) {
		file->expanding = 0;
		goto top;
	}
	if (c == '$' && !file->expanding) {
		if ((token = lex_macro()) != 0)
			return token;
		goto top;
	}

	switch (c) {
	case EOF:
		lex_eof = 1;
		return 0;
	case '\0':
		return ERROR;
	case '\'':
	case '"':
		return lex_quoted(c, buf);
	case '\n':
	case ';':
		/* A block opened after a syntax error is skipped whole. */
		if (recovering && brace_depth > recover_depth)
			goto top;
		return c;
	case '{':
		brace_depth++;
		return c;
	case '}':
		/*
		 * Every '}' ends a statement: send ';' first. Not while
		 * skipping a block that began after a syntax error, or the
		 * error would end at the ';' and the '}' be a new one.
		 */
		if (!brace_sep &&
		    !(recovering && brace_depth > recover_depth)) {
			brace_sep = 1;
			lungetc(c);
			return ';';
		}
		brace_sep = 0;
		if (brace_depth > 0)
			brace_depth--;
		return c;
	}

	if (allowed_in_string(c)) {
		/* A word; macros in it are pasted into it. */
		p = buf;
		toolong = 0;
		do {
			if (p + 1 < buf + PARSE_MAX_TOKEN)
				*p++ = c;
			else
				toolong = 1;
			while ((c = lgetc(0)) == START_EXPAND ||
			    c == DONE_EXPAND ||
			    (c == '$' && !file->expanding)) {
				if (c != '$')
					file->expanding = (c == START_EXPAND);
				else if ((token = lex_macro()) != 0)
					return token;
			}
		} while (allowed_in_string(c));
		lungetc(c);
		*p = '\0';
		if (toolong) {
			yyerror("word is too long (at most %d characters)",
			    PARSE_MAX_TOKEN - 1);
			lex_failed = 1;
			return ERROR;
		}
		if ((token = lookup(buf)) == STRING)
			yylval.string = pool_strdup(buf);
		return token;
	}
	return c;
}

/*
 * Read all of fd, at most PARSE_MAX_FILE bytes and no more than what is
 * left of limits.include_bytes. Returns the bytes (*len of them), or NULL
 * with *errp set to an errno value or PARSE_EBYTES.
 */
static char *
read_all(int fd, const struct stat *st, size_t *len, int *errp)
{
	uint64_t	 max, left;
	char		*buf = NULL;
	size_t		 size = 0;
	ssize_t		 n;
	int		 toobig;

	left = conf->limits.include_bytes > bytes_read ?
	    conf->limits.include_bytes - bytes_read : 0;
	max = left < PARSE_MAX_FILE ? left : PARSE_MAX_FILE;
	toobig = left < PARSE_MAX_FILE ? PARSE_EBYTES : EFBIG;
	/* A regular file too big is refused before it is read. */
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > max) {
		*errp = toobig;
		return NULL;
	}
	*len = 0;
	for (;;) {
		if (*len == size) {
			size = size * 2 + 4096;
			if (size > max + 1)
				size = max + 1;
			buf = xreallocarray(buf, 1, size);
		}
		n = read(fd, buf + *len, size - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*errp = errno;
			free(buf);
			return NULL;
		}
		if (n == 0)
			return buf;
		*len += n;
		if (*len > max) {
			*errp = toobig;
			free(buf);
			return NULL;
		}
	}
}

/*
 * Read a whole file and make it the current one. With text != NULL, use
 * the text instead (name is then only used in messages). Returns NULL and
 * sets *errp to an errno value on failure.
 */
static struct file *
pushfile(const char *name, const char *text, struct file *parent, int *errp)
{
	struct file	*f, *p;
	struct stat	 st;
	char		*buf = NULL, *slash;
	size_t		 len = 0;
	int		 fd, flags;

	if (text != NULL) {
		buf = xstrdup(text);
		len = strlen(text);
	} else {
		/* An include must be a file; the top one may be a pipe. */
		flags = O_RDONLY | O_CLOEXEC;
		if (parent != NULL)
			flags |= O_NONBLOCK;
		fd = open(name, flags);
		if (fd == -1) {
			*errp = errno;
			return NULL;
		}
		if (fstat(fd, &st) == -1) {
			*errp = errno;
			close(fd);
			return NULL;
		}
		if (S_ISDIR(st.st_mode) ||
		    (parent != NULL && !S_ISREG(st.st_mode))) {
			*errp = S_ISDIR(st.st_mode) ? EISDIR : PARSE_ENOTREG;
			close(fd);
			return NULL;
		}
		for (p = parent; p != NULL; p = p->parent) {
			if (p->dev == st.st_dev && p->ino == st.st_ino &&
			    (p->dev != 0 || p->ino != 0)) {
				*errp = PARSE_ELOOP;
				close(fd);
				return NULL;
			}
		}
		if ((buf = read_all(fd, &st, &len, errp)) == NULL) {
			close(fd);
			return NULL;
		}
		bytes_read += len;
		close(fd);
	}

	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	if (text != NULL)
		f->dir = NULL;
	else if ((slash = strrchr(name, '/')) == NULL)
		f->dir = NULL;
	else if (slash == name)
		f->dir = xstrdup("/");
	else
		f->dir = xstrndup(name, slash - name);
	if (text == NULL) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	f->buf = buf;
	f->len = len;
	f->lineno = 1;
	f->parent = parent;
	f->depth = parent != NULL ? parent->depth + 1 : 0;
	TAILQ_INSERT_TAIL(&files, f, entry);
	return f;
}

/* The text for one of pushfile's errors. */
static const char *
open_error(int error)
{
	if (error == PARSE_ENOTREG)
		return "not a regular file";
	return strerror(error);
}

/* Continue with an included file, found relative to the current one. */
static void
include_file(YYSTYPE *arg)
{
	struct file	*f;
	char		*path, size[32];
	int		 error;

	if (arg->string[0] == '\0') {
		errorat(arg->file, arg->lineno, "include: empty path");
		return;
	}
	if (arg->string[0] == '/' || file->dir == NULL)
		path = xstrdup(arg->string);
	else if (strcmp(file->dir, "/") == 0)
		xasprintf(&path, "/%s", arg->string);
	else
		xasprintf(&path, "%s/%s", file->dir, arg->string);

	if (file->depth >= PARSE_MAX_DEPTH) {
		errorat(arg->file, arg->lineno, "include \"%s\": too many "
		    "nested includes (at most %d)", path, PARSE_MAX_DEPTH);
		free(path);
		return;
	}
	if (include_stopped) {
		/* The limit is reported once; nothing more is included. */
		free(path);
		return;
	}
	if (included >= conf->limits.include_files) {
		errorat(arg->file, arg->lineno, "include \"%s\": more than %u "
		    "files included in all (limit include files %u); no "
		    "more are read", path, conf->limits.include_files,
		    conf->limits.include_files);
		include_stopped = 1;
		free(path);
		return;
	}
	included++;
	if ((f = pushfile(path, NULL, file, &error)) == NULL) {
		if (error == PARSE_EBYTES) {
			size_format(conf->limits.include_bytes, size,
			    sizeof size);
			errorat(arg->file, arg->lineno, "include \"%s\": more "
			    "than %s read in all (limit include bytes %s); "
			    "no more is read", path, size, size);
			include_stopped = 1;
		} else if (error == PARSE_ELOOP)
			errorat(arg->file, arg->lineno, "include loop: "
			    "\"%s\" is already being read", path);
		else
			errorat(arg->file, arg->lineno, "include \"%s\": %s",
			    path, open_error(error));
		free(path);
		return;
	}
	free(path);
	file = f;
}

/* Define or redefine a macro. */
static void
symset(const char *name, const char *value)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(sym->name, name) == 0) {
			free(sym->value);
			sym->value = xstrdup(value);
			return;
		}
	}
	sym = xcalloc(1, sizeof *sym);
	sym->name = xstrdup(name);
	sym->value = xstrdup(value);
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
}

static const char *
symget(const char *name)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(sym->name, name) == 0)
			return sym->value;
	}
	return NULL;
}

static int
valid_macro_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isascii((unsigned char)*s) ||
		    (!isalnum((unsigned char)*s) && *s != '_'))
			return 0;
	}
	return 1;
}

/*
 * Parse a decimal number in [min, max]. Returns 0, -1 if s is not a
 * number, or -2 if it is out of range.
 */
static int
parse_number(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t	v = 0;
	int	big = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (*s - '0');
	}
	if (big || v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

/* A user by numeric id or name. Returns 0 or -1 if there is none. */
static int
parse_user(const char *s, uid_t *uid)
{
	struct passwd	*pw;
	int64_t		 id;

	if (parse_number(s, 0, UINT32_MAX - 1, &id) == 0)
		*uid = id;
	else if ((pw = getpwnam(s)) != NULL)
		*uid = pw->pw_uid;
	else
		return -1;
	return 0;
}

/* A group by numeric id or name. Returns 0 or -1 if there is none. */
static int
parse_group(const char *s, gid_t *gid)
{
	struct group	*gr;
	int64_t		 id;

	if (parse_number(s, 0, UINT32_MAX - 1, &id) == 0)
		*gid = id;
	else if ((gr = getgrnam(s)) != NULL)
		*gid = gr->gr_gid;
	else
		return -1;
	return 0;
}

/*
 * Parse user[:group], by name or numeric id. Reports its own errors at
 * the token's line, naming the VM if vmname is not NULL; returns 0 or -1.
 */
static int
parse_owner(const YYSTYPE *tok, const char *vmname, const char *s,
    uid_t *uid, gid_t *gid)
{
	char	*user, *group, *prefix;
	int	 rv = -1;

	if (vmname != NULL)
		xasprintf(&prefix, "vm \"%s\": ", vmname);
	else
		prefix = xstrdup("");
	user = xstrdup(s);
	if ((group = strchr(user, ':')) != NULL)
		*group++ = '\0';
	if (user[0] == '\0' || (group != NULL && group[0] == '\0')) {
		errorat(tok->file, tok->lineno, "%sinvalid owner \"%s\" "
		    "(user or user:group)", prefix, s);
		goto out;
	}
	if (parse_user(user, uid) == -1) {
		errorat(tok->file, tok->lineno, "%sunknown user \"%s\"",
		    prefix, user);
		goto out;
	}
	*gid = (gid_t)-1;
	if (group != NULL && parse_group(group, gid) == -1) {
		errorat(tok->file, tok->lineno, "%sunknown group \"%s\"",
		    prefix, group);
		goto out;
	}
	rv = 0;
out:
	free(prefix);
	free(user);
	return rv;
}

/* Parse a unicast MAC address, xx:xx:xx:xx:xx:xx. Returns 0 or -1. */
static int
parse_lladdr(const char *s, uint8_t *lladdr)
{
	const char	*p = s;
	int		 i, n, v, c;

	for (i = 0; i < 6; i++) {
		v = 0;
		for (n = 0; n < 2 && isxdigit((unsigned char)*p); n++, p++) {
			c = tolower((unsigned char)*p);
			v = v * 16 + (isdigit(c) ? c - '0' : c - 'a' + 10);
		}
		if (n == 0)
			return -1;
		lladdr[i] = v;
		if (i < 5 && *p++ != ':')
			return -1;
	}
	if (*p != '\0' || (lladdr[0] & 1))
		return -1;
	return 0;
}

/*
 * Check a rule tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport with the
 * parser vmtop-slirp uses too (lib/hostfwd.c). Returns NULL if it is
 * good, else what is wrong with it.
 */
static const char *
parse_hostfwd(const char *s)
{
	return hostfwd_parse(s, NULL);
}

/* The rule of nic whose host port a good rule s would take too, if any. */
static const char *
hostfwd_taken(struct conf_nic *nic, const char *s)
{
	struct hostfwd	hf, other;
	int		i;

	hostfwd_parse(s, &hf);
	for (i = 0; i < nic->nhostfwd; i++) {
		if (hostfwd_parse(nic->hostfwd[i], &other) == NULL &&
		    hostfwd_clash(&hf, &other))
			return nic->hostfwd[i];
	}
	return NULL;
}

/* A Linux interface name: 1-15 characters, no '/', ':' or spaces. */
static int
valid_ifname(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > 15 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	}
	return 1;
}

/* Set one of the VM's paths once. Returns 0, or -1 after an error. */
static int
set_path(const YYSTYPE *kw, const char *what, char **dst, const char *path)
{
	const char	*why;

	if (*dst != NULL) {
		vmerror(kw, "%s is set more than once", what);
		return -1;
	}
	if (path[0] == '\0') {
		vmerror(kw, "%s: empty path", what);
		return -1;
	}
	if ((why = vmcheck_path(path)) != NULL) {
		vmerror(kw, "%s path %s", what, why);
		return -1;
	}
	*dst = xstrdup(path);
	return 0;
}

/* A path the owner's opener reads: absolute, or ~/ for the owner's home. */
static void
set_owner_path(const YYSTYPE *kw, const char *what, char **dst,
    const char *path)
{
	if (path[0] != '\0' && path[0] != '/' && strncmp(path, "~/", 2) != 0)
		vmerror(kw, "%s path \"%s\" is neither absolute nor in ~/",
		    what, path);
	else
		set_path(kw, what, dst, path);
}

/* boot disk, boot cdrom: the firmware's order, once per vm. */
static void
set_boot_device(const YYSTYPE *kw, uint32_t dev)
{
	if (curvm->boot_device != BOOT_DEFAULT)
		vmerror(kw, "boot disk or cdrom is set more than once");
	else
		curvm->boot_device = dev;
}

/* staggered start parallel N delay S: N >= 1, S >= 0. */
static void
set_stagger(const YYSTYPE *kw, const YYSTYPE *par, const YYSTYPE *delay)
{
	int64_t	n, s;
	int	bad = 0;

	if (conf->stagger_parallel != 0) {
		errorat(kw->file, kw->lineno,
		    "staggered start is set more than once");
		return;
	}
	switch (parse_number(par->string, 1, INT_MAX, &n)) {
	case -1:
		errorat(par->file, par->lineno, "staggered start: parallel "
		    "\"%s\" is not a number", par->string);
		bad = 1;
		break;
	case -2:
		errorat(par->file, par->lineno, "staggered start: parallel "
		    "%s is out of range (1 to %d)", par->string, INT_MAX);
		bad = 1;
		break;
	}
	switch (parse_number(delay->string, 0, INT_MAX, &s)) {
	case -1:
		errorat(delay->file, delay->lineno, "staggered start: delay "
		    "\"%s\" is not a number of seconds", delay->string);
		bad = 1;
		break;
	case -2:
		errorat(delay->file, delay->lineno, "staggered start: delay "
		    "%s is out of range (0 to %d)", delay->string, INT_MAX);
		bad = 1;
		break;
	}
	if (!bad) {
		conf->stagger_parallel = n;
		conf->stagger_delay = s;
	}
}

/*
 * The global figures of vm.conf: each statement's words, how its value is
 * read (a count, or a size whose bare digits count in unit) and its range.
 */
struct setting {
	const char	*name;
	int		 is_size;
	uint64_t	 unit;
	uint64_t	 min;
	uint64_t	 max;
	size_t		 offset;	/* in struct config */
	size_t		 width;		/* 4 or 8 bytes */
};

#define SETTING(name, size, unit, min, max, field)			\
	{ name, size, unit, min, max, offsetof(struct config, field),	\
	    sizeof(((struct config *)0)->field) }

static const struct setting settings[] = {
	SETTING("limit user memory", 1, SIZE_MIB, 0, UINT64_MAX,
	    limits.user_memory),
	SETTING("limit user vcpus", 0, 0, 0, INT_MAX, limits.user_vcpus),
	SETTING("limit user adhoc", 0, 0, 0, INT_MAX, limits.user_adhoc),
	SETTING("limit clients", 0, 0, 1, INT_MAX, limits.clients),
	SETTING("limit clients per-user", 0, 0, 0, INT_MAX,
	    limits.user_clients),
	SETTING("limit subscribers", 0, 0, 1, INT_MAX, limits.subscribers),
	SETTING("limit waiters", 0, 0, 1, INT_MAX, limits.waiters),
	SETTING("limit queue", 1, 1, PARSE_MIN_QUEUE, PARSE_MAX_QUEUE,
	    limits.queue_bytes),
	SETTING("limit hello-timeout", 0, 0, 1, PARSE_MAX_HELLO,
	    limits.hello_timeout),
	SETTING("limit include files", 0, 0, 0, PARSE_MAX_INCLUDES,
	    limits.include_files),
	SETTING("limit include bytes", 1, 1, 1, PARSE_MAX_INCLUDE_BYTES,
	    limits.include_bytes),
	SETTING("console-log size", 1, 1, PARSE_MIN_LOG, UINT64_MAX,
	    console_log_size),
	SETTING("console-log keep", 0, 0, 0, PARSE_MAX_LOG_KEEP,
	    console_log_keep),
	SETTING("runner-uids", 0, 0, 1, UINT32_MAX - 1, runner_uid_first),
	SETTING("runner-uids count", 0, 0, 1, UINT32_MAX - 1,
	    runner_uid_count),
};
#define NSETTINGS	(sizeof settings / sizeof settings[0])

/* Which settings this parse has set, one bit each. */
static uint32_t			 settings_done;

static const struct setting *
setting_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	}
	return NULL;
}

/* A bound as vm.conf would write it. */
static void
setting_bound(const struct setting *st, uint64_t v, char *buf, size_t len)
{
	if (st->is_size)
		size_format(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/*
 * Read tok's text as the value of st, reporting its own errors at kw's
 * line. Returns 0 with *out set, or -1.
 */
static int
setting_value(const YYSTYPE *kw, const struct setting *st,
    const YYSTYPE *tok, uint64_t *out)
{
	char	 lo[32], hi[32];
	int64_t	 n = 0;
	int	 rv = 0;

	if (st->is_size) {
		if (size_scan(tok->string, st->unit, out) == -1)
			rv = errno == ERANGE ? -2 : -1;
	} else {
		rv = parse_number(tok->string, 0, INT64_MAX, &n);
		*out = n;
	}
	if (rv == -1 && st->is_size) {
		errorat(kw->file, kw->lineno, "%s: invalid size \"%s\" (a "
		    "number with an optional K, M, G or T)", st->name,
		    tok->string);
		return -1;
	}
	if (rv == -1) {
		errorat(kw->file, kw->lineno, "%s: \"%s\" is not a number",
		    st->name, tok->string);
		return -1;
	}
	if (rv == -2) {
		errorat(kw->file, kw->lineno, "%s %s is too large", st->name,
		    tok->string);
		return -1;
	}
	if ((*out < st->min || *out > st->max) && st->max == UINT64_MAX) {
		setting_bound(st, st->min, lo, sizeof lo);
		errorat(kw->file, kw->lineno, "%s %s is too small (at least "
		    "%s)", st->name, tok->string, lo);
		return -1;
	}
	if (*out < st->min || *out > st->max) {
		setting_bound(st, st->min, lo, sizeof lo);
		setting_bound(st, st->max, hi, sizeof hi);
		errorat(kw->file, kw->lineno, "%s %s is out of range (%s to "
		    "%s)", st->name, tok->string, lo, hi);
		return -1;
	}
	return 0;
}

/* Mark st set; an error if it was set before. Returns 0 or -1. */
static int
setting_once(const YYSTYPE *kw, const struct setting *st)
{
	uint32_t	bit = 1U << (st - settings);

	if (settings_done & bit) {
		errorat(kw->file, kw->lineno, "%s is set more than once",
		    st->name);
		return -1;
	}
	settings_done |= bit;
	return 0;
}

static void
setting_store(const struct setting *st, uint64_t v)
{
	char		*p = (char *)conf + st->offset;
	uint32_t	 v32 = v;

	if (st->width == sizeof v)
		memcpy(p, &v, sizeof v);
	else
		memcpy(p, &v32, sizeof v32);
}

/* A whole statement that sets one figure: name, then value. */
static void
setting_set(const YYSTYPE *kw, const char *name, const YYSTYPE *value)
{
	const struct setting	*st;
	uint64_t		 v;

	if ((st = setting_find(name)) == NULL) {
		errorat(kw->file, kw->lineno, "unknown statement \"%s\" (limit "
		    "user memory, user vcpus, user adhoc, clients, subscribers, "
		    "waiters, queue, hello-timeout, include files or include "
		    "bytes)", name);
		return;
	}
	if (setting_value(kw, st, value, &v) == 0 && setting_once(kw, st) == 0)
		setting_store(st, v);
}

/* setting_set() of the statement "prefix word value". */
static void
setting_set2(const YYSTYPE *kw, const char *prefix, const YYSTYPE *word,
    const YYSTYPE *value)
{
	char	*name;

	xasprintf(&name, "%s %s", prefix, word->string);
	setting_set(kw, name, value);
	free(name);
}

/* limit clients N per-user M */
static void
set_clients(const YYSTYPE *kw, const YYSTYPE *what, const YYSTYPE *n,
    const YYSTYPE *peruser, const YYSTYPE *m)
{
	if (strcmp(what->string, "clients") != 0 ||
	    strcmp(peruser->string, "per-user") != 0) {
		errorat(kw->file, kw->lineno, "unknown statement \"limit %s %s "
		    "%s %s\" (limit clients N per-user N)", what->string,
		    n->string, peruser->string, m->string);
		return;
	}
	setting_set(kw, "limit clients", n);
	setting_set(kw, "limit clients per-user", m);
}

/* console-log size SIZE [keep N] */
static void
set_console_log(const YYSTYPE *kw, const YYSTYPE *size, const YYSTYPE *s,
    const YYSTYPE *keep, const YYSTYPE *k)
{
	if (strcmp(size->string, "size") != 0 || (keep != NULL &&
	    strcmp(keep->string, "keep") != 0)) {
		errorat(kw->file, kw->lineno, "console-log: expected "
		    "console-log size SIZE [keep N]");
		return;
	}
	setting_set(kw, "console-log size", s);
	if (keep != NULL)
		setting_set(kw, "console-log keep", k);
}

/* runner-uids FIRST count N, a range that ends below (uid_t)-1. */
static void
set_runner_uids(const YYSTYPE *kw, const YYSTYPE *first,
    const YYSTYPE *count, const YYSTYPE *n)
{
	const struct setting	*sf, *sn;
	uint64_t		 vf, vn;

	if (strcmp(count->string, "count") != 0) {
		errorat(kw->file, kw->lineno, "runner-uids: expected "
		    "runner-uids FIRST count N");
		return;
	}
	sf = setting_find("runner-uids");
	sn = setting_find("runner-uids count");
	if (setting_value(kw, sf, first, &vf) == -1 ||
	    setting_value(kw, sn, n, &vn) == -1)
		return;
	if (vf + vn - 1 > UINT32_MAX - 1) {
		errorat(kw->file, kw->lineno, "runner-uids %s count %s goes "
		    "past the largest uid, %u", first->string, n->string,
		    UINT32_MAX - 1);
		return;
	}
	if (setting_once(kw, sf) == 0) {
		setting_store(sf, vf);
		setting_store(sn, vn);
	}
}

/* allow kvm user NAME|UID, allow kvm group NAME|GID */
static void
allow_kvm(const YYSTYPE *kw, const YYSTYPE *kvm, const char *what,
    const YYSTYPE *name)
{
	uint32_t	*ids, id;
	int		*n, i, isuser;

	isuser = strcmp(what, "user") == 0;
	if (strcmp(kvm->string, "kvm") != 0 || (!isuser &&
	    strcmp(what, "group") != 0)) {
		errorat(kw->file, kw->lineno, "allow: expected allow kvm "
		    "user NAME or allow kvm group NAME");
		return;
	}
	if (isuser ? parse_user(name->string, &id) == -1 :
	    parse_group(name->string, &id) == -1) {
		errorat(kw->file, kw->lineno, "allow kvm %s: unknown %s "
		    "\"%s\"", what, what, name->string);
		return;
	}
	ids = isuser ? conf->kvm_users : conf->kvm_groups;
	n = isuser ? &conf->nkvm_users : &conf->nkvm_groups;
	for (i = 0; i < *n; i++) {
		if (ids[i] == id) {
			errorat(kw->file, kw->lineno, "allow kvm %s \"%s\" is "
			    "given more than once", what, name->string);
			return;
		}
	}
	if (*n >= CONF_MAX_KVM_ALLOW) {
		errorat(kw->file, kw->lineno, "allow kvm %s \"%s\": too many "
		    "(at most %d)", what, name->string, CONF_MAX_KVM_ALLOW);
		return;
	}
	ids[(*n)++] = id;
}

/* Start a vm block: a new VM with the defaults. */
static void
vm_begin(YYSTYPE *kw, YYSTYPE *name)
{
	if (curvm != NULL)
		conf_vm_free(curvm);	/* left by an earlier error */
	curvm = xcalloc(1, sizeof *curvm);
	curvm->memory = CONF_DEFAULT_MEMORY;
	curvm->vcpus = CONF_DEFAULT_VCPUS;
	curvm->enabled = 0;	/* started by hand unless `enable` */
	curvm->gid = (gid_t)-1;
	curvm->file = xstrdup(kw->file->name);
	curvm->line = kw->lineno;
	curvm_name = name->string;
	curvm_drop = 0;
	curvm_has_memory = curvm_has_vcpus = 0;
	curnic = NULL;

	if (!config_valid_name(name->string)) {
		errorat(kw->file, kw->lineno, "invalid vm name \"%s\" (1-%d "
		    "letters, digits, '.', '_' or '-', starting with a letter "
		    "or digit)", name->string, VM_NAME_MAX);
		curvm_drop = 1;
		return;
	}
	snprintf(curvm->name, sizeof curvm->name, "%s", name->string);
	if (config_find_vm(conf, curvm->name) != NULL) {
		errorat(kw->file, kw->lineno, "vm \"%s\": duplicate vm name",
		    curvm->name);
		curvm_drop = 1;
	}
}

/* End a vm block: check it as a whole and add it to the config. */
static void
vm_end(void)
{
	if (curvm->kernel != NULL && curvm->boot != NULL)
		vm_error_at_vm(curvm, curvm_name,
		    "kernel and boot are mutually exclusive");
	if (curvm->kernel != NULL && curvm->boot_device != BOOT_DEFAULT)
		vm_error_at_vm(curvm, curvm_name, "boot %s needs firmware boot, "
		    "not a kernel", curvm->boot_device == BOOT_DISK ? "disk" :
		    "cdrom");
	if (curvm->initrd != NULL && curvm->kernel == NULL)
		vm_error_at_vm(curvm, curvm_name, "initrd needs a kernel");
	if (curvm->cmdline != NULL && curvm->kernel == NULL)
		vm_error_at_vm(curvm, curvm_name, "cmdline needs a kernel");

	if (curvm_drop)
		conf_vm_free(curvm);
	else
		TAILQ_INSERT_TAIL(&conf->vms, curvm, entry);
	curvm = NULL;
	curnic = NULL;
}

/* Free what a NIC holds and zero it. */
static void
nic_clear(struct conf_nic *nic)
{
	int	i;

	free(nic->switchname);
	for (i = 0; i < nic->nhostfwd; i++)
		free(nic->hostfwd[i]);
	memset(nic, 0, sizeof *nic);
}

/* Start an interface statement; past the limit it fills a scratch NIC. */
static void
nic_begin(YYSTYPE *kw, YYSTYPE *name)
{
	const char	*why;
	int64_t		 unit = -1;

	if ((why = vmcheck_nics(curvm->nnics + 1)) != NULL) {
		vmerror(kw, "%s", why);
		curnic = &nic_scratch;
	} else
		curnic = &curvm->nics[curvm->nnics++];
	nic_clear(curnic);
	curnic->type = name->number;
	curnic->up = 1;
	curnic->tapunit = -1;

	if (name->string == NULL)
		return;
	if (strncmp(name->string, "tap", 3) != 0 ||
	    parse_number(name->string + 3, 0, INT_MAX, &unit) != 0) {
		vmerror(kw, "invalid interface \"%s\" (tapN or user)",
		    name->string);
		return;
	}
	curnic->tapunit = unit;
}

/* Free what a cloud-init block holds and zero it. */
static void
cloudinit_clear(struct conf_cloudinit *ci)
{
	free(ci->user);
	free(ci->ssh_key);
	free(ci->user_data);
	memset(ci, 0, sizeof *ci);
}

/* Start a cloud-init statement; a second one fills a scratch block. */
static void
cloudinit_begin(const YYSTYPE *kw)
{
	if (curvm->cloudinit.enabled) {
		vmerror(kw, "cloud-init is set more than once");
		curci = &ci_scratch;
		cloudinit_clear(curci);
	} else
		curci = &curvm->cloudinit;
	curci->enabled = 1;
}

/* user-data is the seed's user-data as is: nothing is made to go with it. */
static void
cloudinit_end(const YYSTYPE *kw)
{
	if (curci->user_data != NULL &&
	    (curci->user != NULL || curci->ssh_key != NULL))
		vmerror(kw, "cloud-init: user-data is used as is, so user and "
		    "ssh-key cannot go with it");
	if (curci == &ci_scratch)
		cloudinit_clear(curci);
	curci = NULL;
}

/* Start a switch block. */
static void
switch_begin(YYSTYPE *kw, YYSTYPE *name)
{
	if (cursw != NULL) {
		free(cursw->ifname);	/* left by an earlier error */
		free(cursw);
	}
	cursw = xcalloc(1, sizeof *cursw);
	cursw->up = 1;
	cursw->line = kw->lineno;
	cursw_file = kw->file;
	cursw_drop = 0;
	cursw_errors = errors;
	if (!config_valid_name(name->string)) {
		errorat(kw->file, kw->lineno, "invalid switch name \"%s\" "
		    "(1-%d letters, digits, '.', '_' or '-', starting with a "
		    "letter or digit)", name->string, VM_NAME_MAX);
		snprintf(cursw->name, sizeof cursw->name, "?");
		cursw_drop = 1;
		return;
	}
	snprintf(cursw->name, sizeof cursw->name, "%s", name->string);
	if (find_switch(cursw->name) != NULL) {
		errorat(kw->file, kw->lineno, "switch \"%s\": duplicate switch "
		    "name", cursw->name);
		cursw_drop = 1;
	}
}

/* End a switch block and add it to the config. */
static void
switch_end(void)
{
	if (cursw->ifname == NULL && !cursw_drop && errors == cursw_errors) {
		errorat(cursw_file, cursw->line, "switch \"%s\": no interface "
		    "given", cursw->name);
	}
	if (cursw_drop) {
		free(cursw->ifname);
		free(cursw);
	} else
		TAILQ_INSERT_TAIL(&conf->switches, cursw, entry);
	cursw = NULL;
}

static struct conf_switch *
find_switch(const char *name)
{
	struct conf_switch	*sw;

	TAILQ_FOREACH(sw, &conf->switches, entry) {
		if (strcmp(sw->name, name) == 0)
			return sw;
	}
	return NULL;
}

/* Every switch a VM's interface names must be defined somewhere. */
static void
check_switches(void)
{
	struct conf_vm	*vm;
	int		 i;

	TAILQ_FOREACH(vm, &conf->vms, entry) {
		for (i = 0; i < vm->nnics; i++) {
			if (vm->nics[i].switchname == NULL ||
			    find_switch(vm->nics[i].switchname) != NULL)
				continue;
			vm_error_at_vm(vm, vm->name, "switch \"%s\" is not "
			    "defined", vm->nics[i].switchname);
		}
	}
}

/* Free everything the parse kept outside the config. */
static void
parse_cleanup(void)
{
	struct file	*f;
	struct sym	*sym;
	struct poolstr	*ps;

	while ((f = TAILQ_FIRST(&files)) != NULL) {
		TAILQ_REMOVE(&files, f, entry);
		free(f->name);
		free(f->dir);
		free(f->buf);
		free(f->pushback);
		free(f);
	}
	while ((sym = TAILQ_FIRST(&symhead)) != NULL) {
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->name);
		free(sym->value);
		free(sym);
	}
	while ((ps = SLIST_FIRST(&pool)) != NULL) {
		SLIST_REMOVE_HEAD(&pool, entry);
		free(ps);
	}
	if (curvm != NULL)
		conf_vm_free(curvm);
	curvm = NULL;
	curnic = NULL;
	nic_clear(&nic_scratch);
	if (cursw != NULL) {
		free(cursw->ifname);
		free(cursw);
	}
	cursw = NULL;
	file = NULL;
	lex_file = NULL;
}

/*
 * Parse path, or text under the name path, into c, which this initialises
 * (free it with config_free even after errors). Returns the number of
 * errors, each written to out unless it is NULL.
 */
int
config_parse(const char *path, const char *text, struct config *c,
    FILE *out)
{
	int	error;

	TAILQ_INIT(&files);
	TAILQ_INIT(&symhead);
	SLIST_INIT(&pool);
	conf = c;
	errout = out;
	errors = 0;
	brace_sep = 0;
	brace_depth = brace_depth_before = 0;
	recovering = recover_depth = 0;
	lex_failed = 0;
	lex_eof = 0;
	included = 0;
	bytes_read = 0;
	include_stopped = 0;
	curvm = NULL;
	curnic = NULL;
	cursw = NULL;
	memset(&nic_scratch, 0, sizeof nic_scratch);
	settings_done = 0;
	config_init(conf);

	if ((file = pushfile(path, text, NULL, &error)) == NULL) {
		if (errout != NULL)
			fprintf(errout, "%s: %s\n", path, open_error(error));
		return 1;
	}
	lex_file = file;
	lex_line = 1;

	yyparse();
	check_switches();
	parse_cleanup();
	return errors;
}

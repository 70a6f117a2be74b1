/*
 * A VM's cloud-init seed, made at each start by its opener child
 * (opener.c) with the owner's rights, in STATEDIR/vms/NAME/cidata.iso:
 * the folder is made the owner's before the opener drops to the owner,
 * and reached through its fd from then on, so the owner needs no way
 * into the engine's state directory. The owner's files (ssh-key,
 * user-data, the keys in ~/.ssh) are read as the owner; an owner with
 * no key gets one that ssh-keygen makes, as the owner, in the owner's
 * vmtop state directory. The engine removes the seed with the VM.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "paths.h"
#include "xmalloc.h"

#define CLOUDINIT_SEED		"cidata.iso"
#define CLOUDINIT_KEY		"id_ed25519"
#define CLOUDINIT_MAX_KEYS	(64 * 1024)	/* bytes of a key file */
#define CLOUDINIT_MAX_USER_DATA	(1024 * 1024)

/* The keys ~/.ssh offers, in the order they are taken. */
static const char *const cloudinit_home_keys[] = {
	".ssh/id_ed25519.pub", ".ssh/id_ecdsa.pub", ".ssh/id_rsa.pub",
};

void
cloudinit_path(const char *statedir, const char *name, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/vms/%s/%s", statedir, name, CLOUDINIT_SEED);
}

int
cloudinit_dir(const struct conf_vm *c, const char *statedir, uid_t owner,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*vms;
	int		 vmsfd = -1, fd = -1;

	xasprintf(&vms, "%s/vms", statedir);
	if ((mkdir(vms, 0700) == -1 && errno != EEXIST) ||
	    (vmsfd = open(vms, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail;
	if ((mkdirat(vmsfd, c->name, 0700) == -1 && errno != EEXIST) ||
	    (fd = openat(vmsfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		goto fail;
	/* The engine's own folder: only an earlier owner's VM made it. */
	if ((st.st_uid != owner && fchown(fd, owner, (gid_t)-1) == -1) ||
	    ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == -1))
		goto fail;
	close(vmsfd);
	free(vms);
	return fd;
fail:
	snprintf(err, errlen, "vm %s: cloud-init seed folder %s/%s: %s",
	    c->name, vms, c->name, strerror(errno));
	if (fd != -1)
		close(fd);
	if (vmsfd != -1)
		close(vmsfd);
	free(vms);
	return -1;
}

/*
 * Read the regular file path, at most max bytes, into *buf (NUL
 * terminated, *len without it). Returns 0, or -1 with errno set (EFBIG:
 * too big, EINVAL: not a regular file).
 */
static int
cloudinit_read(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 have = 0;
	char		*b;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = !S_ISREG(st.st_mode) ? EINVAL : EFBIG;
		return -1;
	}
	b = xmalloc(max + 1);
	while ((n = read(fd, b + have, max + 1 - have)) > 0)
		if ((have += n) > max)
			break;
	saved = errno;
	close(fd);
	if (n == -1 || have > max) {
		free(b);
		errno = n == -1 ? saved : EFBIG;
		return -1;
	}
	b[have] = '\0';
	*buf = b;
	*len = have;
	return 0;
}

/* A file's error as a sentence: what path: why. */
static void
cloudinit_file_error(const struct conf_vm *c, const char *what,
    const char *path, size_t max, char *err, size_t errlen)
{
	if (errno == EFBIG)
		snprintf(err, errlen, "vm %s: cloud-init %s %s: larger than "
		    "%zu KiB", c->name, what, path, max / 1024);
	else if (errno == EINVAL)
		snprintf(err, errlen, "vm %s: cloud-init %s %s: not a regular "
		    "file", c->name, what, path);
	else
		snprintf(err, errlen, "vm %s: cloud-init %s %s: %s", c->name,
		    what, path, strerror(errno));
}

/* ~/path in home, any other path as it is (malloc'd). */
static char *
cloudinit_expand(const char *home, const char *path)
{
	char	*full;

	if (strncmp(path, "~/", 2) != 0)
		return xstrdup(path);
	xasprintf(&full, "%s%s", home, path + 1);
	return full;
}

/* The key lines of the public key file path; 0, or -1 with err. */
static int
cloudinit_keys_of(const struct conf_vm *c, const char *path, char **keys,
    char *err, size_t errlen)
{
	char	*text, why[128];
	size_t	 len;
	int	 rv;

	if (cloudinit_read(path, CLOUDINIT_MAX_KEYS, &text, &len) == -1) {
		cloudinit_file_error(c, "ssh-key", path, CLOUDINIT_MAX_KEYS, err,
		    errlen);
		return -1;
	}
	if ((rv = seed_keys(text, len, keys, why, sizeof why)) == -1)
		snprintf(err, errlen, "vm %s: cloud-init ssh-key %s: %s",
		    c->name, path, why);
	free(text);
	return rv;
}

/* Run ssh-keygen for a new ed25519 key at path; 0, or -1 with err. */
static int
cloudinit_keygen(const struct conf_vm *c, const char *path, char *err,
    size_t errlen)
{
	pid_t	 pid;
	int	 status, null;

	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "vm %s: making an SSH key %s: %s",
		    c->name, path, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		close_range(3, ~0U, 0);
		execlp("ssh-keygen", "ssh-keygen", "-q", "-t", "ed25519", "-N",
		    "", "-C", "vmtop", "-f", path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (status == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errlen, "vm %s: making an SSH key %s: ssh-keygen "
		    "could not be run (is openssh-client installed?)", c->name,
		    path);
	else
		snprintf(err, errlen, "vm %s: making an SSH key %s: ssh-keygen "
		    "failed (status 0x%x)", c->name, path, status);
	return -1;
}

/*
 * The owner's keys when vm.conf names none: the first of ~/.ssh's, else
 * vmtop's own in state (made if missing). 0, or -1 with err.
 */
static int
cloudinit_default_keys(const struct conf_vm *c, const char *home,
    const char *state, char **keys, char *err, size_t errlen)
{
	struct stat	 st;
	char		*path, *pub;
	size_t		 i;
	int		 rv;

	for (i = 0; i < sizeof cloudinit_home_keys /
	    sizeof cloudinit_home_keys[0]; i++) {
		xasprintf(&path, "%s/%s", home, cloudinit_home_keys[i]);
		if (stat(path, &st) == 0 || errno != ENOENT) {
			rv = cloudinit_keys_of(c, path, keys, err, errlen);
			free(path);
			return rv;
		}
		free(path);
	}
	xasprintf(&path, "%s/%s", state, CLOUDINIT_KEY);
	xasprintf(&pub, "%s.pub", path);
	rv = 0;
	if (stat(pub, &st) == -1) {
		if (paths_mkdirs(state, 0700) == -1) {
			snprintf(err, errlen, "vm %s: making an SSH key in %s: "
			    "%s", c->name, state, strerror(errno));
			rv = -1;
		} else
			rv = cloudinit_keygen(c, path, err, errlen);
	}
	if (rv == 0)
		rv = cloudinit_keys_of(c, pub, keys, err, errlen);
	free(pub);
	free(path);
	return rv;
}

/* The owner's home and vmtop state folder, and login name (malloc'd). */
static int
cloudinit_owner(const struct conf_vm *c, const char *statedir, int own,
    char **home, char **state, char **login, char *err, size_t errlen)
{
	struct passwd	*pw = getpwuid(getuid());
	const char	*env = getenv("HOME");

	*home = *state = *login = NULL;
	if (own && env != NULL && env[0] == '/')
		*home = xstrdup(env);
	else if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		*home = xstrdup(pw->pw_dir);
	if (c->cloudinit.user != NULL)
		*login = xstrdup(c->cloudinit.user);
	else if (pw != NULL && config_valid_login(pw->pw_name))
		*login = xstrdup(pw->pw_name);
	if (*login == NULL && c->cloudinit.user_data == NULL) {
		snprintf(err, errlen, "vm %s: cloud-init: its owner (uid %u) "
		    "has no login name to give the guest; name one with "
		    "cloud-init { user NAME }", c->name, (unsigned)getuid());
		return -1;
	}
	if (*home == NULL) {
		snprintf(err, errlen, "vm %s: cloud-init: its owner (uid %u) "
		    "has no home folder", c->name, (unsigned)getuid());
		return -1;
	}
	if (own)
		*state = xstrdup(statedir);
	else
		xasprintf(state, "%s/.local/state/vmtop", *home);
	return 0;
}

int
cloudinit_seed(const struct conf_vm *c, const char *statedir, int own,
    int dirfd, char *err, size_t errlen)
{
	uint8_t		 macs[VM_MAX_NICS][6];
	struct seed	 s;
	char		 path[VM_PATH_SIZE + 64], *home, *state, *login;
	char		*keys = NULL, *data = NULL, *file;
	size_t		 len;
	int		 i, fd = -1, rv = -1;

	cloudinit_path(statedir, c->name, path, sizeof path);
	memset(&s, 0, sizeof s);
	if (cloudinit_owner(c, statedir, own, &home, &state, &login, err,
	    errlen) == -1)
		goto out;
	s.vm = c->name;
	s.user = login;
	if (c->cloudinit.user_data != NULL) {
		file = cloudinit_expand(home, c->cloudinit.user_data);
		if (cloudinit_read(file, CLOUDINIT_MAX_USER_DATA, &data,
		    &len) == -1) {
			cloudinit_file_error(c, "user-data", file,
			    CLOUDINIT_MAX_USER_DATA, err, errlen);
			free(file);
			goto out;
		}
		free(file);
		s.user_data = data;
		s.user_data_len = len;
	} else if (c->cloudinit.ssh_key != NULL) {
		file = cloudinit_expand(home, c->cloudinit.ssh_key);
		rv = cloudinit_keys_of(c, file, &keys, err, errlen);
		free(file);
		if (rv == -1)
			goto out;
		rv = -1;
	} else if (cloudinit_default_keys(c, home, state, &keys, err,
	    errlen) == -1)
		goto out;
	s.keys = keys;
	for (i = 0; i < c->nnics; i++)
		if (c->nics[i].type == NIC_USER)
			netif_lladdr(c, i, macs[s.nmacs++]);
	s.macs = macs;

	/* A new file, renamed over the last: a running guest keeps its own. */
	unlinkat(dirfd, CLOUDINIT_SEED ".new", 0);
	if ((fd = openat(dirfd, CLOUDINIT_SEED ".new", O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "vm %s: cloud-init seed %s: %s", c->name,
		    path, strerror(errno));
		goto out;
	}
	if (seed_write(&s, fd, path, err, errlen) == -1)
		goto out;
	close(fd);
	if (renameat(dirfd, CLOUDINIT_SEED ".new", dirfd,
	    CLOUDINIT_SEED) == -1 || (fd = openat(dirfd, CLOUDINIT_SEED,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "vm %s: cloud-init seed %s: %s", c->name,
		    path, strerror(errno));
		goto out;
	}
	rv = fd;
	fd = -1;
out:
	if (fd != -1) {
		close(fd);
		unlinkat(dirfd, CLOUDINIT_SEED ".new", 0);
	}
	free(home);
	free(state);
	free(login);
	free(keys);
	free(data);
	return rv;
}

void
cloudinit_remove(const char *statedir, const char *name)
{
	char	*vms;
	int	 vmsfd, fd;

	xasprintf(&vms, "%s/vms", statedir);
	if ((vmsfd = open(vms, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		free(vms);
		return;
	}
	/* Names in the owner's folder, never followed. */
	if ((fd = openat(vmsfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		unlinkat(fd, CLOUDINIT_SEED, 0);
		unlinkat(fd, CLOUDINIT_SEED ".new", 0);
		close(fd);
		if (unlinkat(vmsfd, name, AT_REMOVEDIR) == -1 &&
		    errno != ENOTEMPTY)
			log_warn("vm %s: %s/%s", name, vms, name);
	}
	close(vmsfd);
	free(vms);
}

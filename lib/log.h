/* Logging: stderr in the foreground, syslog otherwise; one log per process. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

void	log_init(const char *procname, int foreground, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
/* Whether messages go to stderr (else to syslog). */
int	log_getforeground(void);
const char *log_procname(void);

/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));

/* fatal/fatalx log and exit(1): only for "cannot go on at all". */
void	fatal(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));
void	fatalx(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif

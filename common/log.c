#include "log.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "journal.h"

static const char *log_ident = "tally";
static int log_max_level = LOG_INFO;
static Journal log_journal = {.fd = -1};

LogField log_field(const char *fmt, ...)
{
        LogField f;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f.kv, sizeof(f.kv), fmt, ap);
        va_end(ap);
        return f;
}

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to stderr; matching it
 * against our stderr tells a unit's output apart from a terminal or a redirected file. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident)
{
        log_ident = ident;
        if (log_journal.fd < 0 && stderr_is_journal()) {
                const char *path = getenv("TALLY_JOURNAL_SOCKET"); /* for tests */
                (void)journal_open(&log_journal, path ? path : JOURNAL_SOCKET_PATH);
        }
        const char *lvl = getenv("TALLY_LOG_LEVEL");
        if (lvl) {
                static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                                    "warning", "notice", "info", "debug"};
                for (int i = 0; i < (int)ELEMENTSOF(names); i++)
                        if (strcmp(lvl, names[i]) == 0)
                                log_max_level = i;
        }
}

void log_set_max_level(int level)
{
        log_max_level = level;
}

int log_get_max_level(void)
{
        return log_max_level;
}

bool log_to_journal(void)
{
        return log_journal.fd >= 0;
}

int log_struct(int level, int err, const char *message_id, size_t n_fields, const LogField *fields,
               const char *fmt, ...)
{
        int saved_errno = errno;
        int ret = err == 0 ? 0 : -abs(err);
        if (level > log_max_level)
                return ret;

        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        /* %m in our messages means the err argument, as in systemd. */
        errno = abs(err);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (log_journal.fd >= 0) {
                char message[1100], priority[16], ident[64], msgid[64], errnostr[32];
                struct iovec iov[8 + 32];
                size_t n = 0;
                snprintf(message, sizeof(message), "MESSAGE=%s", msg);
                snprintf(priority, sizeof(priority), "PRIORITY=%d", level);
                snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
                iov[n++] = (struct iovec){message, strlen(message)};
                iov[n++] = (struct iovec){priority, strlen(priority)};
                iov[n++] = (struct iovec){ident, strlen(ident)};
                if (message_id) {
                        snprintf(msgid, sizeof(msgid), "MESSAGE_ID=%s", message_id);
                        iov[n++] = (struct iovec){msgid, strlen(msgid)};
                }
                if (err != 0) {
                        snprintf(errnostr, sizeof(errnostr), "ERRNO=%d", abs(err));
                        iov[n++] = (struct iovec){errnostr, strlen(errnostr)};
                }
                for (size_t i = 0; i < n_fields && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec){(void *)fields[i].kv, strlen(fields[i].kv)};
                if (journal_send(&log_journal, iov, n) >= 0) {
                        errno = saved_errno;
                        return ret;
                }
        }
        char line[2048];
        int len = snprintf(line, sizeof(line), "%s: %s", log_ident, msg);
        for (size_t i = 0; i < n_fields && len > 0 && (size_t)len < sizeof(line); i++)
                len += snprintf(line + len, sizeof(line) - (size_t)len, " %s", fields[i].kv);
        if (len < 0)
                len = 0;
        if ((size_t)len >= sizeof(line) - 1)
                len = (int)sizeof(line) - 2;
        line[len++] = '\n';
        (void)!write(STDERR_FILENO, line, (size_t)len);
        errno = saved_errno;
        return ret;
}

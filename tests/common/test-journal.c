/* Entries reach a journald-shaped socket in the native protocol's framing: a field
 * whose value holds a newline goes length-prefixed, every other one as KEY=value.
 * The datagrams are decoded here by a parser written from the protocol's text. */
#include <endian.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "journal.h"
#include "log.h"
#include "test.h"

typedef struct Receiver {
        char dir[64];
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        int fd;
} Receiver;

static int receiver_open(Receiver *r)
{
        snprintf(r->dir, sizeof(r->dir), "/tmp/tally-journal-XXXXXX");
        if (!mkdtemp(r->dir))
                return -errno;
        snprintf(r->path, sizeof(r->path), "%.60s/socket", r->dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->path);
        r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

static void receiver_close(Receiver *r)
{
        if (r->fd >= 0)
                close(r->fd);
        unlink(r->path);
        rmdir(r->dir);
}

/* Finds field key in one datagram; its value (NUL-terminated copy) in out. */
static bool find_field(const char *d, size_t len, const char *key, char *out, size_t out_size)
{
        size_t key_len = strlen(key);
        const char *p = d, *end = d + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *eq = memchr(p, '=', (size_t)(end - p));
                if (!nl)
                        return false;
                const char *value;
                size_t value_len;
                const char *k = p;
                size_t k_len;
                if (eq && eq < nl) {
                        k_len = (size_t)(eq - p);
                        value = eq + 1;
                        value_len = (size_t)(nl - value);
                        p = nl + 1;
                } else {
                        uint64_t le;
                        k_len = (size_t)(nl - p);
                        if ((size_t)(end - nl - 1) < sizeof(le))
                                return false;
                        memcpy(&le, nl + 1, sizeof(le));
                        value_len = (size_t)le64toh(le);
                        value = nl + 1 + sizeof(le);
                        if (value_len >= (size_t)(end - value) || value[value_len] != '\n')
                                return false;
                        p = value + value_len + 1;
                }
                if (k_len == key_len && memcmp(k, key, key_len) == 0) {
                        if (value_len >= out_size)
                                return false;
                        memcpy(out, value, value_len);
                        out[value_len] = '\0';
                        return true;
                }
        }
        return false;
}

#define CHECK_FIELD(d, n, key, want)                                        \
        do {                                                                \
                char _v[256];                                               \
                CHECK(find_field((d), (size_t)(n), (key), _v, sizeof(_v))); \
                CHECK_STREQ(_v, (want));                                    \
        } while (0)

static void fields_are_framed_per_protocol(void)
{
        Receiver r = {.fd = -1};
        CHECK(receiver_open(&r) == 0);
        Journal j;
        CHECK(journal_open(&j, r.path) == 0);
        char a[] = "MESSAGE=plain text", b[] = "TALLY_REASON=line one\nline two", c[] = "EMPTY=";
        struct iovec f[] = {{a, strlen(a)}, {b, strlen(b)}, {c, strlen(c)}};
        CHECK(journal_send(&j, f, ELEMENTSOF(f)) == 0);
        char d[4096], v[256];
        ssize_t n = recv(r.fd, d, sizeof(d), 0);
        journal_close(&j);
        receiver_close(&r);
        CHECK(n > 0);
        CHECK_FIELD(d, n, "MESSAGE", "plain text");
        CHECK_FIELD(d, n, "TALLY_REASON", "line one\nline two");
        CHECK_FIELD(d, n, "EMPTY", "");
        CHECK(!find_field(d, (size_t)n, "line two", v, sizeof(v)));
}

static void a_field_without_equals_is_refused(void)
{
        Receiver r = {.fd = -1};
        CHECK(receiver_open(&r) == 0);
        Journal j;
        CHECK(journal_open(&j, r.path) == 0);
        char a[] = "NOVALUE";
        struct iovec f[] = {{a, strlen(a)}};
        int ret = journal_send(&j, f, 1);
        journal_close(&j);
        receiver_close(&r);
        CHECK_EQ_INT(ret, -EINVAL);
}

static void no_socket_is_an_error_not_a_crash(void)
{
        Journal j;
        CHECK(journal_open(&j, "/nonexistent/journal/socket") < 0);
        CHECK_EQ_INT(j.fd, -1);
        char long_path[200];
        memset(long_path, 'x', sizeof(long_path) - 1);
        long_path[sizeof(long_path) - 1] = '\0';
        CHECK_EQ_INT(journal_open(&j, long_path), -ENAMETOOLONG);
}

/* journald restarting binds its path anew; entries sent afterwards must reach it. */
static void entries_reach_a_restarted_receiver(void)
{
        Receiver r = {.fd = -1};
        CHECK(receiver_open(&r) == 0);
        Journal j;
        CHECK(journal_open(&j, r.path) == 0);
        close(r.fd);
        unlink(r.path);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r.path);
        r.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool bound = r.fd >= 0 && bind(r.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        char a[] = "MESSAGE=after restart";
        struct iovec f[] = {{a, strlen(a)}};
        int sent = bound ? journal_send(&j, f, 1) : -1;
        char d[256];
        ssize_t n = bound ? recv(r.fd, d, sizeof(d), MSG_DONTWAIT) : -1;
        journal_close(&j);
        receiver_close(&r);
        CHECK(bound);
        CHECK_EQ_INT(sent, 0);
        CHECK(n > 0);
        CHECK_FIELD(d, n, "MESSAGE", "after restart");
}

/* The logger picks the journal only when JOURNAL_STREAM names its stderr, and then
 * sends the message, priority, identifier, MESSAGE_ID, ERRNO and the caller's fields. */
static void logger_sends_structured_entries(void)
{
        Receiver r = {.fd = -1};
        CHECK(receiver_open(&r) == 0);
        struct stat st;
        CHECK(fstat(STDERR_FILENO, &st) == 0);
        char stream[64];
        snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", stream, 1);
        setenv("TALLY_JOURNAL_SOCKET", r.path, 1);
        log_setup("tally-test");
        bool to_journal = log_to_journal();
        char path[3000]; /* longer than the 128 bytes a field once had: it arrives whole */
        memset(path, 'p', sizeof(path) - 1);
        path[sizeof(path) - 1] = 0;
        log_struct(LOG_WARNING, ENOENT, MSGID_BAD_ROWS,
                   LOG_FIELDS(log_field("TALLY_FILE=%s", "a.csv"), log_field("TALLY_LINE=%d", 7),
                              log_field("TALLY_PATH=%s", path)),
                   "Bad row in %s: %m", "a.csv");
        char d[16384], v[sizeof(path) + 1];
        ssize_t n = recv(r.fd, d, sizeof(d), MSG_DONTWAIT);
        receiver_close(&r);
        CHECK(to_journal);
        CHECK(n > 0);
        CHECK_FIELD(d, n, "MESSAGE", "Bad row in a.csv: No such file or directory");
        CHECK_FIELD(d, n, "PRIORITY", "4");
        CHECK_FIELD(d, n, "SYSLOG_IDENTIFIER", "tally-test");
        CHECK_FIELD(d, n, "MESSAGE_ID", MSGID_BAD_ROWS);
        CHECK_FIELD(d, n, "ERRNO", "2");
        CHECK_FIELD(d, n, "TALLY_LINE", "7");
        CHECK(find_field(d, (size_t)n, "TALLY_PATH", v, sizeof(v)));
        CHECK_STREQ(v, path);
}

TEST_MAIN(TEST_CASE(fields_are_framed_per_protocol), TEST_CASE(a_field_without_equals_is_refused),
          TEST_CASE(no_socket_is_an_error_not_a_crash),
          TEST_CASE(entries_reach_a_restarted_receiver), TEST_CASE(logger_sends_structured_entries))

/* Source programs, run for real: argv splitting, the minimal environment, exit codes and
 * signals told apart, a deadline and a stop ending the whole process group (grandchildren
 * that ignore SIGTERM included), a stderr flood bounded, garbage passed through as bytes. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "child.h"
#include "test.h"

typedef struct Out {
        char *buf;
        size_t len;
        size_t err_lines;
        uint64_t suppressed;
        char first_err[2048];
        size_t first_err_len;
        char last_err[256];
} Out;

static void on_stderr(void *ud, const char *line, size_t len)
{
        Out *o = ud;
        unsigned long long n;
        if (sscanf(line, "[%llu stderr lines suppressed]", &n) == 1)
                o->suppressed += n;
        if (o->err_lines++ == 0) {
                o->first_err_len = MIN(len, sizeof(o->first_err) - 1);
                memcpy(o->first_err, line, o->first_err_len);
                o->first_err[o->first_err_len] = 0;
        }
        snprintf(o->last_err, sizeof(o->last_err), "%.*s", (int)MIN(len, 255), line);
}

/* Runs argv to its end (or failure); returns child_wait's ChildEnd, *code, reads in o. */
static int run(char *const argv[], ChildOptions opt, Out *o, int *code, ssize_t *read_rc)
{
        opt.on_stderr = on_stderr;
        opt.userdata = o;
        Child *c = NULL;
        int r = child_spawn(argv, &opt, &c);
        if (r < 0)
                return r;
        char buf[4096];
        ssize_t n;
        while ((n = child_read(c, buf, sizeof(buf))) > 0) {
                o->buf = realloc(o->buf, o->len + (size_t)n + 1);
                memcpy(o->buf + o->len, buf, (size_t)n);
                o->len += (size_t)n;
                o->buf[o->len] = 0;
        }
        if (read_rc)
                *read_rc = n;
        r = child_wait(c, code);
        child_free(c);
        return r;
}

#define SH(script) ((char *const[]){"sh", "-c", script, NULL})

static bool gone(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        return kill(pid, 0) < 0 && errno == ESRCH && access(path, F_OK) < 0;
}

static void test_split_argv_quoting_rules(void)
{
        char **argv = NULL;
        const char *err = NULL;
        CHECK_EQ_INT(child_split_argv("  /usr/bin/python3 'a b' \"c \\\"d\\\" \\\\ e\" f\\ g "
                                      "'' $HOME *.csv 'x'\"y\"z",
                                      &argv, &err),
                     0);
        const char *want[] = {
            "/usr/bin/python3", "a b", "c \"d\" \\ e", "f g", "", "$HOME", "*.csv", "xyz", NULL};
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (!want[i]) {
                        CHECK(argv[i] == NULL);
                        break;
                }
                CHECK_STREQ(argv[i], want[i]);
        }
        argv = child_argv_free(argv);
        /* inside "…" only \" and \\ escape; other backslashes stay */
        CHECK_EQ_INT(child_split_argv("\"a\\nb\"", &argv, &err), 0);
        CHECK_STREQ(argv[0], "a\\nb");
        argv = child_argv_free(argv);
        CHECK_EQ_INT(child_split_argv("cmd 'open", &argv, &err), -EINVAL);
        CHECK(strstr(err, "unterminated"));
        CHECK_EQ_INT(child_split_argv("cmd \"open", &argv, &err), -EINVAL);
        CHECK_EQ_INT(child_split_argv("cmd \\", &argv, &err), -EINVAL);
        CHECK(strstr(err, "backslash"));
        CHECK_EQ_INT(child_split_argv(" \t ", &argv, &err), -EINVAL);
        CHECK(strstr(err, "empty"));
        char many[4 * (CHILD_MAX_ARGS + 2)] = "";
        for (int i = 0; i <= CHILD_MAX_ARGS; i++)
                strcat(many, "a ");
        CHECK_EQ_INT(child_split_argv(many, &argv, &err), -E2BIG);
}

static void test_stdout_read_and_exit_zero(void)
{
        Out o = {};
        int code = -1;
        int r = run(SH("printf 'a,b\\n1,2\\n'; printf 'warn\\n' >&2"), (ChildOptions){}, &o, &code,
                    NULL);
        CHECK_EQ_INT(r, CHILD_EXITED);
        CHECK_EQ_INT(code, 0);
        CHECK_STREQ(o.buf, "a,b\n1,2\n");
        CHECK_EQ_INT(o.err_lines, 1);
        CHECK_STREQ(o.first_err, "warn");
        free(o.buf);
}

static void test_exit_status_3(void)
{
        Out o = {};
        int code = -1;
        CHECK_EQ_INT(run(SH("echo partial; exit 3"), (ChildOptions){}, &o, &code, NULL),
                     CHILD_EXITED);
        CHECK_EQ_INT(code, 3);
        free(o.buf);
}

static void test_killed_by_a_signal(void)
{
        Out o = {};
        int code = -1;
        CHECK_EQ_INT(run(SH("kill -SEGV $$"), (ChildOptions){}, &o, &code, NULL), CHILD_SIGNALED);
        CHECK_EQ_INT(code, SIGSEGV);
}

static void test_environment_is_minimal_and_stdin_empty(void)
{
        setenv("TALLY_TEST_SECRET", "leak", 1);
        Out o = {};
        int code;
        CHECK_EQ_INT(run((char *const[]){"env", NULL}, (ChildOptions){}, &o, &code, NULL),
                     CHILD_EXITED);
        CHECK_STREQ(o.buf, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\nTZ=UTC\n");
        free(o.buf);
        o = (Out){};
        CHECK_EQ_INT(run(SH("cat; echo done"), (ChildOptions){}, &o, &code, NULL), CHILD_EXITED);
        CHECK_STREQ(o.buf, "done\n");
        free(o.buf);
}

static void test_no_inherited_descriptors(void)
{
        int fd = open("/dev/null", O_RDONLY); /* not O_CLOEXEC: still must not leak */
        CHECK(fd >= 3);
        Out o = {};
        int code;
        /* ls's own descriptors: 0, 1, 2 and the directory it reads */
        CHECK_EQ_INT(
            run((char *const[]){"ls", "/proc/self/fd", NULL}, (ChildOptions){}, &o, &code, NULL),
            CHILD_EXITED);
        close(fd);
        CHECK_STREQ(o.buf, "0\n1\n2\n3\n");
        free(o.buf);
}

static void test_missing_or_unexecutable_program(void)
{
        Child *c = NULL;
        CHECK_EQ_INT(
            child_spawn((char *const[]){"no-such-program-tally", NULL}, &(ChildOptions){}, &c),
            -ENOENT);
        CHECK_EQ_INT(child_spawn((char *const[]){"/nonexistent/prog", NULL}, &(ChildOptions){}, &c),
                     -ENOENT);
        CHECK_EQ_INT(child_spawn((char *const[]){"/etc/passwd", NULL}, &(ChildOptions){}, &c),
                     -EACCES);
        CHECK(c == NULL);
}

/* A hung program with a grandchild; both ignore SIGTERM, so only the SIGKILL after the
 * grace ends them. */
static void test_deadline_kills_the_whole_group(void)
{
        ChildOptions opt = {.deadline_usec = now_monotonic_usec() + 700 * USEC_PER_MSEC,
                            .grace_usec = 300 * USEC_PER_MSEC,
                            .on_stderr = on_stderr};
        Out o = {};
        opt.userdata = &o;
        Child *c = NULL;
        uint64_t t0 = now_monotonic_usec();
        CHECK_EQ_INT(child_spawn(SH("trap '' TERM; sleep 1000 & echo $!; sleep 1000"), &opt, &c),
                     0);
        pid_t leader = child_pid(c);
        char buf[64] = "";
        ssize_t n = child_read(c, buf, sizeof(buf) - 1);
        CHECK(n > 0);
        pid_t grandchild = (pid_t)atoi(buf);
        CHECK(grandchild > 0);
        CHECK(kill(grandchild, 0) == 0);
        n = child_read(c, buf, sizeof(buf));
        CHECK_EQ_INT(n, -ETIME);
        int code;
        CHECK_EQ_INT(child_wait(c, &code), CHILD_TIMED_OUT);
        child_free(c);
        uint64_t took = now_monotonic_usec() - t0;
        CHECK(gone(leader));
        CHECK(gone(grandchild)); /* killed and reaped: no zombie */
        CHECK(took >= 1000 * USEC_PER_MSEC && took < 3 * USEC_PER_SEC);
}

static void test_stop_flag_ends_the_group(void)
{
        static volatile sig_atomic_t stop;
        ChildOptions opt = {.stop = &stop};
        Child *c = NULL;
        CHECK_EQ_INT(child_spawn(SH("sleep 1000 & echo $!; wait"), &opt, &c), 0);
        char buf[64] = "";
        CHECK(child_read(c, buf, sizeof(buf) - 1) > 0);
        pid_t grandchild = (pid_t)atoi(buf);
        stop = 1;
        CHECK_EQ_INT(child_read(c, buf, sizeof(buf)), -ECANCELED);
        int code;
        CHECK_EQ_INT(child_wait(c, &code), CHILD_STOPPED);
        pid_t leader = child_pid(c);
        child_free(c);
        CHECK(gone(leader));
        CHECK(gone(grandchild));
}

static void test_leftovers_die_after_a_clean_exit(void)
{
        Out o = {};
        int code;
        CHECK_EQ_INT(
            run(SH("sleep 1000 >/dev/null 2>&1 & echo $!"), (ChildOptions){}, &o, &code, NULL),
            CHILD_EXITED);
        CHECK_EQ_INT(code, 0);
        pid_t grandchild = (pid_t)atoi(o.buf);
        CHECK(grandchild > 0);
        CHECK(gone(grandchild));
        free(o.buf);
}

static void test_free_without_wait_kills(void)
{
        Child *c = NULL;
        CHECK_EQ_INT(child_spawn(SH("exec sleep 1000"), &(ChildOptions){}, &c), 0);
        pid_t pid = child_pid(c);
        child_free(c);
        CHECK(gone(pid));
}

static void test_stderr_flood_is_bounded(void)
{
        Out o = {};
        int code;
        uint64_t t0 = now_monotonic_usec();
        CHECK_EQ_INT(run(SH("i=0; while [ $i -lt 5000 ]; do echo \"noise $i\" >&2; "
                            "i=$((i+1)); done"),
                         (ChildOptions){}, &o, &code, NULL),
                     CHILD_EXITED);
        uint64_t secs = (now_monotonic_usec() - t0) / USEC_PER_SEC + 1;
        /* at most 20 a second were passed on, plus one count line a second */
        size_t shown = o.err_lines;
        CHECK(shown <= secs * (CHILD_STDERR_LINES_PER_SEC + 1) + 1);
        CHECK(o.suppressed > 0);
        /* every line is either shown or counted */
        CHECK(strstr(o.last_err, "suppressed"));
        CHECK(o.suppressed + shown > 5000 - 1);
        CHECK(o.suppressed + shown <= 5000 + secs + 1);
}

static void test_long_stderr_line_is_cut(void)
{
        Out o = {};
        int code;
        CHECK_EQ_INT(run(SH("head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; echo end >&2"),
                         (ChildOptions){}, &o, &code, NULL),
                     CHILD_EXITED);
        CHECK_EQ_INT(o.err_lines, 2);
        CHECK_EQ_INT(o.first_err_len, CHILD_STDERR_LINE_MAX + strlen(" [line cut]"));
        CHECK(strstr(o.first_err, "xxx [line cut]"));
        CHECK_STREQ(o.last_err, "end");
}

static void test_garbage_is_passed_through_byte_for_byte(void)
{
        char path[] = "/tmp/tally-garbage.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        unsigned char junk[300000];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (unsigned char)(i * 2654435761u >> 13);
        CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
        close(fd);
        Out o = {};
        int code;
        int r = run((char *const[]){"cat", path, NULL}, (ChildOptions){}, &o, &code, NULL);
        unlink(path);
        CHECK_EQ_INT(r, CHILD_EXITED);
        CHECK_EQ_INT(o.len, sizeof(junk));
        CHECK(memcmp(o.buf, junk, sizeof(junk)) == 0);
        free(o.buf);
}

static void test_unread_stdout_does_not_block_the_wait(void)
{
        Child *c = NULL;
        CHECK_EQ_INT(child_spawn(SH("head -c 1000000 /dev/zero; exit 4"), &(ChildOptions){}, &c),
                     0);
        int code;
        CHECK_EQ_INT(child_wait(c, &code), CHILD_EXITED);
        CHECK_EQ_INT(code, 4);
        child_free(c);
}

TEST_MAIN(TEST_CASE(test_split_argv_quoting_rules), TEST_CASE(test_stdout_read_and_exit_zero),
          TEST_CASE(test_exit_status_3), TEST_CASE(test_killed_by_a_signal),
          TEST_CASE(test_environment_is_minimal_and_stdin_empty),
          TEST_CASE(test_no_inherited_descriptors), TEST_CASE(test_missing_or_unexecutable_program),
          TEST_CASE(test_deadline_kills_the_whole_group), TEST_CASE(test_stop_flag_ends_the_group),
          TEST_CASE(test_leftovers_die_after_a_clean_exit), TEST_CASE(test_free_without_wait_kills),
          TEST_CASE(test_stderr_flood_is_bounded), TEST_CASE(test_long_stderr_line_is_cut),
          TEST_CASE(test_garbage_is_passed_through_byte_for_byte),
          TEST_CASE(test_unread_stdout_does_not_block_the_wait))

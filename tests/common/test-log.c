/* The logger on stderr (no journal): one line per entry, "ident: message KEY=value ...",
 * with nothing cut short however long a field or the message is. */
#include <fcntl.h>

#include "log.h"
#include "test.h"

/* Runs one log_struct with stderr sent to a file; the file's text in out. */
#define CAPTURE(out, n, ...)                              \
        do {                                              \
                FILE *_tmp = tmpfile();                   \
                CHECK(_tmp);                              \
                int _saved = dup(STDERR_FILENO);          \
                dup2(fileno(_tmp), STDERR_FILENO);        \
                __VA_ARGS__;                              \
                dup2(_saved, STDERR_FILENO);              \
                close(_saved);                            \
                rewind(_tmp);                             \
                size_t _k = fread((out), 1, (n)-1, _tmp); \
                (out)[_k] = 0;                            \
                fclose(_tmp);                             \
        } while (0)

static void setup(void)
{
        unsetenv("JOURNAL_STREAM"); /* stderr, whatever ran the test */
        log_setup("test-log");
        log_set_max_level(LOG_INFO);
}

static void fields_follow_the_message_on_one_line(void)
{
        static char out[512];
        setup();
        CAPTURE(out, sizeof(out),
                log_struct(
                    LOG_ERR, EACCES, NULL,
                    LOG_FIELDS(log_field("TALLY_FILE=%s", "a.csv"), log_field("TALLY_LINE=%d", 7)),
                    "cannot read %s: %m", "a.csv"));
        CHECK_STREQ(out, "test-log: cannot read a.csv: Permission denied TALLY_FILE=a.csv "
                         "TALLY_LINE=7\n");
}

static void long_fields_and_messages_are_whole(void)
{
        static char path[4097], message[3000], out[16384], want[16384];
        memset(path, 'p', sizeof(path) - 1);
        memset(message, 'm', sizeof(message) - 1);
        setup();
        CAPTURE(out, sizeof(out),
                log_struct(LOG_WARNING, 0, NULL, LOG_FIELDS(log_field("TALLY_FILE=%s", path)), "%s",
                           message));
        snprintf(want, sizeof(want), "test-log: %s TALLY_FILE=%s\n", message, path);
        CHECK_EQ_INT(strlen(out), strlen(want));
        CHECK_STREQ(out, want);
}

static void entries_above_the_level_are_dropped(void)
{
        static char out[256];
        setup();
        log_set_max_level(LOG_WARNING);
        CAPTURE(out, sizeof(out),
                log_struct(LOG_INFO, 0, NULL, LOG_FIELDS(log_field("TALLY_X=%d", 1)), "quiet"));
        log_set_max_level(LOG_INFO);
        CHECK_STREQ(out, ""); /* and the field is freed: ASan's leak check would say */
}

TEST_MAIN(TEST_CASE(fields_follow_the_message_on_one_line),
          TEST_CASE(long_fields_and_messages_are_whole),
          TEST_CASE(entries_above_the_level_are_dropped))

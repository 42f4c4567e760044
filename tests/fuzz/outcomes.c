/* outcomes [--mutate] FILE...: one line per input saying how every snapshot
 * reader judges it (snapshot_read_buffer, snapshot_read_file_image with and without
 * SNAPSHOT_READ_BODIES_ONLY): accepted with its counts, or refused with the error and the
 * reason. Each file is judged as it is and as fuzz-snapshot reads it (first byte the mode:
 * 0 a whole file, 1 a v1 payload, 2/3 a v2 payload, wrapped in a valid envelope).
 * --mutate also judges every single-byte change of each payload seed.
 *
 * compare-outcomes.sh builds it against two trees: a change to the readers that is meant
 * to keep their behaviour must give the same lines, messages included. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "envelope.h"
#include "snapshot_read.h"

static void judge(const char *what, int dfd, const uint8_t *data, size_t size)
{
        if (!data) /* a wrap that found no memory */
                abort();
        char reason[512] = "";
        Snapshot *s = NULL;
        int r = snapshot_read_buffer(data, size, &s, reason, sizeof(reason));
        printf(" %s buffer=%d", what, r);
        if (r < 0)
                printf(" [%s]", reason);
        else
                printf(" gen=%llu views=%zu sources=%zu", (unsigned long long)s->generation,
                       s->n_views, s->n_sources);
        snapshot_free(s);
        int fd = openat(dfd, "in", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
                abort();
        close(fd);
        for (unsigned flags = 0; flags <= SNAPSHOT_READ_BODIES_ONLY; flags++) {
                void *img = NULL;
                size_t img_size = 0;
                s = NULL;
                reason[0] = 0;
                r = snapshot_read_file_image(dfd, "in", SNAPSHOT_MAX_FILE_BYTES, flags, &s, &img,
                                             &img_size, reason, sizeof(reason));
                printf(" image%u=%d", flags, r);
                if (r < 0)
                        printf(" [%s]", reason);
                else {
                        snapshot_free(s);
                        munmap(img, img_size);
                }
        }
}

/* Every single-byte change of a payload seed (mode 1 or 2), wrapped with a good checksum:
 * each byte replaced by a few telling values, deleted, or the payload cut there. The
 * zero bytes of a v2 pad are mutated only at their ends. */
static void mutate(int dfd, const char *name, const uint8_t *buf, size_t len)
{
        static const uint8_t repl[] = {0x00, 0x01, 0x7f, 0xc0, 0xc1, 0xc3, 0x80, 0x81,
                                       0x90, 0x91, 0xa0, 0xa1, 0xcf, 0xdd, 0xde, 0xff};
        if (len < 2 || !(buf[0] & 3))
                return;
        uint8_t version = buf[0] & 2 ? SNAPSHOT_FORMAT_VERSION_BODIES : SNAPSHOT_FORMAT_VERSION;
        const uint8_t *pl = buf + 1;
        size_t n = len - 1;
        uint8_t *m = malloc(n);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && i + 1 < n && pl[i - 1] == 0 && pl[i] == 0 && pl[i + 1] == 0)
                        continue;
                for (size_t k = 0; k <= sizeof(repl) + 2; k++) {
                        size_t ml = n;
                        memcpy(m, pl, n);
                        if (k < sizeof(repl)) {
                                if (repl[k] == pl[i])
                                        continue;
                                m[i] = repl[k];
                        } else if (k == sizeof(repl))
                                m[i] ^= 0x01;
                        else if (k == sizeof(repl) + 1) {
                                memmove(m + i, m + i + 1, n - i - 1);
                                ml = n - 1;
                        } else
                                ml = i;
                        size_t wl = 0;
                        uint8_t *w = wrap_payload(m, ml, version, &wl);
                        printf("%s@%zu/%zu:", name, i, k);
                        judge("mut", dfd, w, wl);
                        printf("\n");
                        free(w);
                }
        }
        free(m);
}

int main(int argc, char **argv)
{
        bool mut = argc > 1 && strcmp(argv[1], "--mutate") == 0;
        if (mut)
                argv++, argc--;
        char dir[] = "/tmp/fold-outcomes-XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        for (int i = 1; i < argc; i++) {
                int fd = open(argv[i], O_RDONLY);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0)
                        return 1;
                size_t len = (size_t)st.st_size;
                uint8_t *buf = malloc(len + 1);
                if (read(fd, buf, len) != (ssize_t)len)
                        return 1;
                close(fd);
                const char *base = strrchr(argv[i], '/');
                printf("%s:", base ? base + 1 : argv[i]);
                /* the file as it is, and as fuzz-snapshot reads it */
                judge("raw", dfd, buf, len);
                if (len > 0 && (buf[0] & 3)) {
                        size_t wl = 0;
                        uint8_t *w = wrap_payload(buf + 1, len - 1,
                                                  buf[0] & 2 ? SNAPSHOT_FORMAT_VERSION_BODIES
                                                             : SNAPSHOT_FORMAT_VERSION,
                                                  &wl);
                        judge("wrapped", dfd, w, wl);
                        free(w);
                } else if (len > 0)
                        judge("file", dfd, buf + 1, len - 1);
                printf("\n");
                if (mut)
                        mutate(dfd, base ? base + 1 : argv[i], buf, len);
                free(buf);
        }
        unlinkat(dfd, "in", 0);
        rmdir(dir);
        return 0;
}

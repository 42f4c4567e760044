/* Replays fuzz inputs through a target without libFuzzer: each argument is a file or a
 * directory of files. Every input is copied into a buffer of exactly its size, so an
 * overread lands outside the allocation where ASan sees it. Inputs run in name order so
 * a failure reproduces the same way every time. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *count)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fileno(f), &st) < 0 || st.st_size > (64 << 20)) {
                fprintf(stderr, "%s: cannot stat or larger than 64 MiB\n", path);
                fclose(f);
                return -1;
        }
        size_t len = (size_t)st.st_size;
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf || fread(buf, 1, len, f) != len) {
                fprintf(stderr, "%s: short read\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        (*count)++;
        return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path, unsigned *count)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                /* A regressions folder may not exist yet: nothing to replay. */
                if (errno == ENOENT)
                        return 0;
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path, count);
        struct dirent **list;
        int n = scandir(path, &list, NULL, by_name), r = 0;
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                if (list[i]->d_name[0] != '.' && r == 0) {
                        char sub[4096];
                        int k = snprintf(sub, sizeof(sub), "%s/%s", path, list[i]->d_name);
                        r = k < 0 || (size_t)k >= sizeof(sub) ? -1 : run_path(sub, count);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &count) < 0)
                        return 1;
        printf("replayed %u inputs\n", count);
        return 0;
}

#include "input.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#define GZ_READ_BUFFER (256 * 1024) /* zlib's own input buffer */

static int cmp_path(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char **input_list_free(char **paths, size_t n)
{
        for (size_t i = 0; paths && i < n; i++)
                free(paths[i]);
        free(paths);
        return NULL;
}

int input_list(const char *pattern, char ***ret_paths, size_t *ret_n)
{
        if (!strpbrk(pattern, "*?[")) {
                char **v = calloc(1, sizeof(char *));
                if (!v || !(v[0] = strdup(pattern))) {
                        free(v);
                        return -ENOMEM;
                }
                *ret_paths = v;
                *ret_n = 1;
                return 0;
        }
        glob_t g = {};
        int k = glob(pattern, GLOB_ERR | GLOB_NOSORT, NULL, &g);
        if (k == GLOB_NOMATCH || (k == 0 && g.gl_pathc == 0)) {
                globfree(&g);
                return -ENOENT;
        }
        if (k != 0) {
                globfree(&g);
                return k == GLOB_NOSPACE ? -ENOMEM : -EIO;
        }
        qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_path);
        size_t n = g.gl_pathc;
        char **v = calloc(n, sizeof(char *));
        for (size_t i = 0; v && i < n; i++)
                if (!(v[i] = strdup(g.gl_pathv[i]))) {
                        v = input_list_free(v, n);
                        break;
                }
        globfree(&g);
        if (!v)
                return -ENOMEM;
        *ret_paths = v;
        *ret_n = n;
        return 0;
}

static bool is_gz(const char *path)
{
        size_t n = strlen(path);
        return n >= 3 && strcmp(path + n - 3, ".gz") == 0;
}

void input_done(InputFile *f)
{
        if (f->map && f->size)
                munmap((void *)f->map, f->size);
        if (f->fd >= 0)
                close(f->fd);
        free(f->path);
        *f = INPUT_FILE_NULL;
}

int input_open(InputFile *f, const char *path, const char **ret_what)
{
        *f = (InputFile){.fd = -1, .gz = is_gz(path)};
        *ret_what = "cannot open input";
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;
        f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (f->fd < 0)
                return -errno;
        struct stat st;
        if (fstat(f->fd, &st) < 0) {
                *ret_what = "cannot stat input";
                return -errno;
        }
        if (!S_ISREG(st.st_mode)) {
                *ret_what = "input is not a regular file";
                return -EINVAL;
        }
        f->size = (size_t)st.st_size;
        if (f->gz || f->size == 0)
                return 0;
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
        if (m == MAP_FAILED) {
                *ret_what = "cannot map input";
                return -errno;
        }
        f->map = m;
        (void)madvise(m, f->size, MADV_SEQUENTIAL);
        return 0;
}

void input_populate(const InputFile *f, size_t from, size_t len)
{
#ifdef MADV_POPULATE_READ
        size_t pa = from & ~(size_t)4095;
        size_t pe = MIN(from + len, f->size);
        if (pe > pa) /* older kernels say EINVAL */
                (void)madvise((void *)(f->map + pa), pe - pa, MADV_POPULATE_READ);
#endif
}

void input_drop_behind(const InputFile *f, size_t *dropped, size_t upto)
{
        upto &= ~(size_t)4095;
        if (upto > *dropped) {
                (void)madvise((void *)(f->map + *dropped), upto - *dropped, MADV_DONTNEED);
                *dropped = upto;
        }
}

struct GzStream {
        gzFile gz;
};

int gz_stream_new(const InputFile *f, GzStream **ret)
{
        /* the dup shares the file offset with every other dup: rewind it */
        int fd = dup(f->fd);
        if (fd < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        GzStream *z = calloc(1, sizeof(GzStream));
        if (!z || !(z->gz = gzdopen(fd, "rb"))) {
                free(z);
                close(fd);
                return -ENOMEM;
        }
        gzbuffer(z->gz, GZ_READ_BUFFER);
        *ret = z;
        return 0;
}

GzStream *gz_stream_free(GzStream *z)
{
        if (z) {
                gzclose(z->gz);
                free(z);
        }
        return NULL;
}

int gz_stream_fill(GzStream *z, char *buf, size_t *len, size_t cap, bool *eof, const char **ret_msg)
{
        while (*len < cap && !*eof) {
                int k = gzread(z->gz, buf + *len, (unsigned)MIN(cap - *len, (size_t)INT32_MAX));
                if (k < 0) {
                        int zerr;
                        *ret_msg = gzerror(z->gz, &zerr);
                        return -EBADMSG;
                }
                if (k == 0)
                        *eof = true;
                *len += (size_t)k;
        }
        return 0;
}

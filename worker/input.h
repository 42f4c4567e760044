/* Input files: a path or glob pattern to a sorted list of files, each opened and mapped
 * (or, compressed, streamed through zlib), with the page hints that keep a scan's
 * resident memory at the groups and not at the input's size.
 *
 * Errors are negative errno; functions that can fail at several steps say which one
 * through *ret_what, so the caller can name it in its message. */
#pragma once

#include "util.h"

typedef struct InputFile {
        char *path;
        int fd;
        bool gz;         /* name ends in .gz: streamed, never mapped */
        const char *map; /* whole file, read-only (NULL for gz and empty files) */
        size_t size;     /* on disk */
} InputFile;

#define INPUT_FILE_NULL ((InputFile){.fd = -1})

/* The files a path names: itself if it has no glob characters (whether it exists or not:
 * opening it says more than "no match"), else every match, sorted, so line numbers in
 * logs and the order of work are reproducible. -ENOENT when a pattern matches nothing,
 * -EIO when it cannot be listed. */
int input_list(const char *pattern, char ***ret_paths, size_t *ret_n);
char **input_list_free(char **paths, size_t n);

/* Opens a regular file and maps it unless it is compressed or empty. */
int input_open(InputFile *f, const char *path, const char **ret_what);
void input_done(InputFile *f);

/* Faults in [from, from + len) of the map with one call instead of a fault per 64 KiB;
 * page faults are dear under virtualisation (best effort). */
void input_populate(const InputFile *f, size_t from, size_t len);
/* Drops the pages of [*dropped, upto) from the resident set (they stay in the page
 * cache): a scan will not read them again. Advances *dropped. */
void input_drop_behind(const InputFile *f, size_t *dropped, size_t upto);

/* A gzip file read from its start (each stream has its own offset). */
typedef struct GzStream GzStream;
int gz_stream_new(const InputFile *f, GzStream **ret);
GzStream *gz_stream_free(GzStream *z);
DEFINE_TRIVIAL_CLEANUP_FUNC(GzStream *, gz_stream_free);
/* Appends inflated bytes to buf[*len..cap) until it is full or the stream ends (*eof).
 * -EBADMSG for corrupt data; ret_msg then holds zlib's reason. */
int gz_stream_fill(GzStream *z, char *buf, size_t *len, size_t cap, bool *eof,
                   const char **ret_msg);

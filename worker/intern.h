/* String interning: one copy per distinct string, so a string is known by its pointer.
 * exact distinct() over a str column keeps these pointers as its 8-byte values. One table
 * per thread; merging maps another thread's pointers through this table. */
#pragma once

#include "bump.h"

typedef struct InternStr {
        uint64_t hash;
        uint32_t len;
        char s[];
} InternStr;

typedef struct Intern {
        Bump *bump;
        const InternStr **slots;
        size_t cap, n;
} Intern;

int intern_init(Intern *t);
void intern_done(Intern *t);
uint64_t intern_hash(const char *s, size_t len);
/* The canonical copy of s; NULL when out of memory. */
const InternStr *intern_get(Intern *t, const char *s, uint32_t len, uint64_t hash);

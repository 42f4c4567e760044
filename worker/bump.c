#include "bump.h"

#include <sys/mman.h>

#define HUGE_PAGE    (UINT64_C(2) << 20)
#define FIRST_REGION (UINT64_C(256) << 10) /* small runs never touch a huge page */
#define MAX_REGION   (UINT64_C(64) << 20)

typedef struct Region {
        struct Region *next;
        size_t size;
} Region;

struct Bump {
        Region *regions;
        char *cur, *end;
        size_t next_size;
};

/* Maps size bytes at a 2 MiB boundary so the kernel can back them with huge pages. */
static void *map_huge(size_t size)
{
        if (size < HUGE_PAGE) {
                void *p =
                    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                return p == MAP_FAILED ? NULL : p;
        }
        size_t want = size + HUGE_PAGE;
        char *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        char *aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (aligned > p)
                munmap(p, (size_t)(aligned - p));
        size_t tail = (size_t)(p + want - (aligned + size));
        if (tail)
                munmap(aligned + size, tail);
        if (size >= HUGE_PAGE)
                (void)madvise(aligned, size, MADV_HUGEPAGE);
        return aligned;
}

void *bump_map_array(size_t size)
{
        size = (size + 4095) & ~(size_t)4095;
        if (size < HUGE_PAGE) {
                void *p =
                    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                return p == MAP_FAILED ? NULL : p;
        }
        return map_huge(size);
}

void bump_unmap_array(void *p, size_t size)
{
        if (p)
                munmap(p, (size + 4095) & ~(size_t)4095);
}

int bump_new(Bump **ret)
{
        Bump *b = calloc(1, sizeof(Bump));
        if (!b)
                return -ENOMEM;
        b->next_size = FIRST_REGION;
        *ret = b;
        return 0;
}

Bump *bump_free(Bump *b)
{
        if (!b)
                return NULL;
        for (Region *r = b->regions; r;) {
                Region *next = r->next;
                munmap(r, r->size);
                r = next;
        }
        free(b);
        return NULL;
}

void *bump_alloc(Bump *b, size_t size, size_t align)
{
        uintptr_t p = ((uintptr_t)b->cur + align - 1) & ~(uintptr_t)(align - 1);
        if (!b->cur || p + size > (uintptr_t)b->end) {
                size_t need = sizeof(Region) + size + align;
                size_t rsize = MAX(b->next_size, need);
                if (rsize >= HUGE_PAGE)
                        rsize = (rsize + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
                else
                        rsize = (rsize + 4095) & ~(size_t)4095;
                Region *r = map_huge(rsize);
                if (!r)
                        return NULL;
                r->size = rsize;
                r->next = b->regions;
                b->regions = r;
                b->next_size = MIN(b->next_size * 2, (size_t)MAX_REGION);
                b->cur = (char *)(r + 1);
                b->end = (char *)r + rsize;
                p = ((uintptr_t)b->cur + align - 1) & ~(uintptr_t)(align - 1);
        }
        b->cur = (char *)(p + size);
        return (void *)p;
}

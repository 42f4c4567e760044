#include <sys/mman.h>

#include "buf.h"
#include "test.h"

static void test_mapped_buffer_hands_over_its_pages(void)
{
        Buf b;
        buf_init_mapped(&b);
        for (int i = 0; i < 100000; i++)
                buf_puts(&b, "0123456789");
        CHECK(buf_ok(&b));
        CHECK_EQ_INT(b.len, 1000000);
        void *p;
        size_t size;
        CHECK_EQ_INT(buf_take_mapping(&b, &p, &size), 0);
        CHECK(size >= 1000000 && size < 1000000 + 4096 * 2);
        CHECK(memcmp((char *)p + 999990, "0123456789", 10) == 0);
        CHECK(b.data == NULL);
        munmap(p, size);
}

static void test_printf_sizes_to_fit(void)
{
        Buf b = BUF_NULL;
        char long_arg[1000];
        memset(long_arg, 'y', sizeof(long_arg) - 1);
        long_arg[sizeof(long_arg) - 1] = 0;
        buf_printf(&b, "<%s>", long_arg); /* longer than the stack fast path */
        CHECK(buf_ok(&b));
        CHECK_EQ_INT(b.len, 1001);
        CHECK(b.data[0] == '<' && b.data[1000] == '>' && b.data[500] == 'y');
        buf_done(&b);
}

static void test_out_of_memory_is_sticky(void)
{
        Buf b = BUF_NULL;
        CHECK(!buf_reserve(&b, SIZE_MAX - 1)); /* refused before any allocation */
        buf_puts(&b, "x");
        CHECK(!buf_ok(&b));
        CHECK_EQ_INT(b.len, 0);
        buf_done(&b);
}

TEST_MAIN(TEST_CASE(test_mapped_buffer_hands_over_its_pages), TEST_CASE(test_printf_sizes_to_fit),
          TEST_CASE(test_out_of_memory_is_sticky))

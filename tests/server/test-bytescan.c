#include "bytescan.h"
#include "test.h"
#include "util.h"

/* The byte loop bytescan_maybe() stands in for: a byte below `below`, or DEL. */
static bool has_byte(const char *p, size_t n, unsigned below)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] < below || (unsigned char)p[i] == 0x7f)
                        return true;
        return false;
}

/* Every length up to 40, every position, every byte value, in an otherwise clean run
 * (letters, spaces, obs-text): false from the scan means the byte loop finds nothing, and
 * a clean run of 8 bytes or more is never reported. */
static void test_scan_agrees_with_the_byte_loop(void)
{
        static const unsigned belows[] = {0x20, 0x21};
        for (size_t b = 0; b < ELEMENTSOF(belows); b++) {
                unsigned below = belows[b];
                for (size_t n = 0; n <= 40; n++) {
                        char v[48];
                        for (size_t i = 0; i < n; i++)
                                v[i] = (char)(i % 3 == 0 ? 'a' + i % 26 : i % 3 == 1 ? 0xc3 : 'Z');
                        CHECK(!has_byte(v, n, below));
                        CHECK(bytescan_maybe(v, n, below) == (n < 8));
                        for (size_t at = 0; at < n; at++)
                                for (unsigned c = 0; c < 256; c++) {
                                        char saved = v[at];
                                        v[at] = (char)c;
                                        bool truth = has_byte(v, n, below);
                                        CHECK(!truth || bytescan_maybe(v, n, below));
                                        CHECK(truth || n < 8 || !bytescan_maybe(v, n, below));
                                        v[at] = saved;
                                }
                }
        }
}

TEST_MAIN(TEST_CASE(test_scan_agrees_with_the_byte_loop))

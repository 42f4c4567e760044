/* The contract between a fuzz target and its two drivers: libFuzzer (fuzz build) and
 * replay.c (every build, replays the seed corpus and the regression inputs as a unit
 * test). A target defines both functions; a bug it finds must crash (ASan, UBSan, or
 * FUZZ_ASSERT), never return quietly. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* TALLY_FUZZ_VERBOSE=1 makes a target print each input's outcome (for replaying by hand). */
static inline bool fuzz_verbose(void)
{
        static int v = -1;
        if (v < 0)
                v = getenv("TALLY_FUZZ_VERBOSE") != NULL;
        return v;
}

/* An invariant the code under test promises; aborting lets libFuzzer save the input. */
#define FUZZ_ASSERT(expr)                                                                    \
        do {                                                                                 \
                if (!(expr)) {                                                               \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                                #expr);                                                      \
                        abort();                                                             \
                }                                                                            \
        } while (0)

/* A quantile sketch in bounded memory (DDSketch, Masson et al., VLDB 2019) for
 * approx_p50/p90/p95/p99.
 *
 * Values go into logarithmic buckets of ratio gamma = (1 + a) / (1 - a) with a = 1%, kept
 * separately for positive values, negative values and zeros. The answer for quantile q is
 * the bucket holding the value of rank floor(q * (n - 1)), and it is within 1% (relative)
 * of that value. At most SKETCH_MAX_BINS buckets per sign: past that the smallest
 * magnitudes are merged, which only costs accuracy there (about 1e-9 .. 1e9 fits without
 * merging). Memory per group: at most 2 * SKETCH_MAX_BINS * 8 bytes. Sketches merge
 * exactly (bucket counts add), so per-thread sketches combine into the same answer. */
#pragma once

#include "util.h"

#define SKETCH_REL_ACCURACY 0.01
#define SKETCH_MAX_BINS     2048

typedef struct Sketch Sketch;

int sketch_new(Sketch **ret);
Sketch *sketch_free(Sketch *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sketch *, sketch_free);
int sketch_add(Sketch *s, double v);
int sketch_merge(Sketch *dst, const Sketch *src);
uint64_t sketch_count(const Sketch *s);
/* q in [0, 1]; the sketch must not be empty. */
double sketch_quantile(const Sketch *s, double q);

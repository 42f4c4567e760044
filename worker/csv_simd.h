/* The separator masks of one block of CSV bytes, at the widths x86-64 offers: bit i of
 * comma, lf and quote set where byte i is ',', '\n' or '"'. Shared by the tokenizer's fast
 * record (csv.c) and the scan's (scan.c), which cut fields at the mask bits.
 *
 * Each function using a width carries its target attribute (CSV_TARGET_AVX2, _AVX512) and
 * is picked at run time (csv_simd_level): SSE2 is every x86-64's, AVX2 and AVX-512BW are
 * not. A record of tally-gen's data (about 65 bytes) takes 5 blocks of 16 bytes, 3 of 32
 * or 2 of 64. */
#pragma once

#include "util.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CSV_SIMD          1
#define CSV_TARGET_AVX2   __attribute__((target("avx2")))
#define CSV_TARGET_AVX512 __attribute__((target("avx512f,avx512bw")))

typedef enum CsvSimdLevel {
        CSV_SIMD_SSE2,
        CSV_SIMD_AVX2,
        CSV_SIMD_AVX512,
} CsvSimdLevel;

/* The widest the CPU runs, decided once per process. TALLY_WORKER_SIMD=sse2 or avx2 caps
 * it (the tests run each width's fast paths against the reference). */
CsvSimdLevel csv_simd_level(void);

#define CSV_MASKS_16(p, comma, lf, quote)                                                    \
        do {                                                                                 \
                __m128i x_ = _mm_loadu_si128((const __m128i *)(p));                          \
                comma = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x_, _mm_set1_epi8(','))); \
                lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x_, _mm_set1_epi8('\n')));   \
                quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x_, _mm_set1_epi8('"'))); \
        } while (0)
#define CSV_MASKS_32(p, comma, lf, quote)                                                          \
        do {                                                                                       \
                __m256i x_ = _mm256_loadu_si256((const __m256i *)(p));                             \
                comma =                                                                            \
                    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x_, _mm256_set1_epi8(',')));  \
                lf =                                                                               \
                    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x_, _mm256_set1_epi8('\n'))); \
                quote =                                                                            \
                    (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x_, _mm256_set1_epi8('"')));  \
        } while (0)
#define CSV_MASKS_64(p, comma, lf, quote)                                  \
        do {                                                               \
                __m512i x_ = _mm512_loadu_si512((const void *)(p));        \
                comma = _mm512_cmpeq_epi8_mask(x_, _mm512_set1_epi8(',')); \
                lf = _mm512_cmpeq_epi8_mask(x_, _mm512_set1_epi8('\n'));   \
                quote = _mm512_cmpeq_epi8_mask(x_, _mm512_set1_epi8('"')); \
        } while (0)

/* The common record at c's position, cut W bytes a block (masks: CSV_MASKS_W): no quote,
 * fully inside the buffer, at most CSV_MAX_RECORD_BYTES. FIELD(p, n) runs for each field
 * in order (a CR before the LF is not the last field's), then c is advanced past the
 * record and DONE runs. For any other record it falls through with c untouched. The one
 * cutting loop of the tokenizer's fast record (csv.c) and the fused scan (scan.c). */
#define CSV_CUT_RECORD(W, masks, c, FIELD, DONE)                                                   \
        do {                                                                                       \
                const char *b_ = (c)->buf;                                                         \
                const size_t len_ = (c)->len, start_ = (c)->pos;                                   \
                size_t field_ = start_;                                                            \
                for (size_t q_ = start_; q_ + W <= len_; q_ += W) {                                \
                        uint64_t mc_, ml_, mq_;                                                    \
                        masks(b_ + q_, mc_, ml_, mq_);                                             \
                        uint64_t upto_ = csv_upto_lf(ml_);                                         \
                        if (mq_ & upto_)                                                           \
                                break;                                                             \
                        mc_ &= upto_;                                                              \
                        while (mc_) {                                                              \
                                size_t e_ = q_ + (unsigned)__builtin_ctzll(mc_);                   \
                                mc_ &= mc_ - 1;                                                    \
                                FIELD(b_ + field_, e_ - field_);                                   \
                                field_ = e_ + 1;                                                   \
                        }                                                                          \
                        if (ml_) {                                                                 \
                                size_t e_ = q_ + (unsigned)__builtin_ctzll(ml_), k_ = e_ - field_; \
                                if (k_ > 0 && b_[e_ - 1] == '\r')                                  \
                                        k_--;                                                      \
                                FIELD(b_ + field_, k_);                                            \
                                (c)->rec_line = (c)->line;                                         \
                                (c)->rec_start = start_;                                           \
                                (c)->line++;                                                       \
                                (c)->pos = e_ + 1;                                                 \
                                (c)->used_scratch = false;                                         \
                                DONE;                                                              \
                                break;                                                             \
                        }                                                                          \
                        if (q_ + W - start_ > CSV_MAX_RECORD_BYTES)                                \
                                break;                                                             \
                }                                                                                  \
        } while (0)
#endif

/* The bits of a block's mask up to and including its first LF (all of them without one). */
static inline uint64_t csv_upto_lf(uint64_t lf)
{
        return lf ? lf ^ (lf - 1) : ~UINT64_C(0);
}

/* Accumulators: the per-group state behind the aggregates (plan.h says which a view
 * carries and where in the group's state block each lives), how a row's value goes in,
 * how two threads' states of one group merge, and the final value of every aggregate.
 *
 * A row's input to an accumulator is one 8-byte word prepared up front
 * (accum_prepare_inputs), so rows held back for a window replay exactly what a direct
 * update would have done. */
#pragma once

#include "intern.h"
#include "plan.h"
#include "vlist.h"

typedef struct Summary {
        uint64_t n;
        int64_t isum;     /* int and time columns */
        bool overflow;    /* isum wrapped: the int sum is reported as missing */
        double sum, comp; /* Neumaier-compensated sum (num columns; avg of int ones) */
        union {
                int64_t i;
                double d;
        } min, max;
} Summary;

typedef struct DistinctSet {
        VList list;
        uint64_t next_dedup; /* sort and deduplicate when the list reaches this length */
} DistinctSet;

/* What one thread's accumulators allocate from: value chunks, interned strings (exact
 * distinct over str keeps their pointers), and scratch space for sorting and selection. */
typedef struct AccumStore {
        VPool pool;
        Intern intern;
        uint64_t *scratch;
        size_t scratch_size; /* in words */
} AccumStore;

int accum_store_init(AccumStore *st);
void accum_store_done(AccumStore *st);

/* A group state block starts with its row count. */
static inline uint64_t group_rows(const void *state)
{
        return *(const uint64_t *)state;
}

/* One input word per accumulator of vp from row (n_columns Values); *ret_missing gets a
 * bit per accumulator whose column is missing. -ENOMEM when interning fails. */
int accum_prepare_inputs(AccumStore *st, const ViewPlan *vp, const Value *row, uint64_t *in,
                         uint64_t *ret_missing);
/* Counts one row into a group's state. */
int accum_update(AccumStore *st, const ViewPlan *vp, void *state, const uint64_t *in,
                 uint64_t missing);
/* Adds src_state (another thread's, allocated from its store) into dst_state. Pointers
 * src_state owns may move to dst_state; src's store must stay alive. */
int accum_merge(AccumStore *dst, const ViewPlan *vp, void *dst_state, void *src_state);
/* The aggregate values of one group, one Value per aggregate of the view (VALUE_NIL where
 * undefined). May reorder the group's stored values. */
int accum_values(AccumStore *st, const ViewPlan *vp, void *state, Value *out);
/* Frees what a group state owns outside the store (sketches, HyperLogLogs). */
void accum_state_done(const ViewPlan *vp, void *state);

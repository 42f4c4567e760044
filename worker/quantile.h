/* Order statistics on a group's values: exact quantiles and distinct counts. */
#pragma once

#include "util.h"

/* Exact quantile with linear interpolation between the order statistics around
 * q * (n - 1): the definition of Polars' quantile(interpolation="linear") and DuckDB's
 * quantile_cont. Reorders v (partial selection, O(n)); n > 0. */
double quantile_cont_double(double *v, size_t n, double q);
double quantile_cont_int(int64_t *v, size_t n, double q);

/* Sorts v ascending (as unsigned) and removes duplicates in place; returns the new count. */
size_t sort_unique_u64(uint64_t *v, size_t n);

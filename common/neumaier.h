/* Compensated (Neumaier) summation: a sum of many doubles whose error does not grow with
 * their count. The running sum and its compensation are kept apart, and the answer is
 * sum + comp, so that merging partial sums (one per thread) loses nothing either.
 *
 * On the per-row path of every sum() and avg(), hence inline. */
#pragma once

#include <math.h>

/* Adds x to *sum; returns the rounding error of that addition, for the caller to add to
 * its compensation term. */
static inline double neumaier_add(double *sum, double x)
{
        double t = *sum + x;
        double err = fabs(*sum) >= fabs(x) ? (*sum - t) + x : (x - t) + *sum;
        *sum = t;
        return err;
}

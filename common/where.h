/* The `where` language of a view: its syntax and its meaning, in one place.
 *
 *   where = CLAUSE [and CLAUSE]...
 *   CLAUSE = COLUMN OP LITERAL | COLUMN in (LITERAL, ...)
 *   OP = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="     (str columns: =, != and in only)
 *
 * The same grammar filters other things than source rows: a view's `having` compares its
 * aggregates (`count >= 10 and p95(latency_ms) > 50`), so what a name means comes from a
 * resolver (where_parse_names), and a name may hold balanced parentheses.
 *
 * A literal is parsed once, at config time, as the type of the column it is compared
 * with ('quotes' may hold commas and spaces). Meaning: the clauses are ANDed; a missing
 * value (nil) matches no clause, not even !=; a NaN equals nothing and orders nowhere, so
 * it matches only !=.
 *
 * where_match runs once per row per view, so it is inline here: the compiler then sees
 * the predicate loop at the call site and keeps it free of calls. */
#pragma once

#include "value.h"

#define WHERE_MAX_CLAUSES 64

typedef enum CmpOp {
        CMP_EQ,
        CMP_NE,
        CMP_LT,
        CMP_LE,
        CMP_GT,
        CMP_GE,
        CMP_IN,
} CmpOp;

/* One clause; its literals typed by the column they compare against. */
typedef struct Predicate {
        int column; /* index into the source's columns */
        CmpOp op;
        Value *literals; /* strings are owned (NUL-terminated) copies */
        size_t n_literals;
} Predicate;

/* Parses text against a source's columns (source names it in messages). On success
 * *ret is an array of *ret_n predicates. A mistake returns -EINVAL with a one-line
 * reason, ENOMEM returns -ENOMEM; nothing is returned then. */
int where_parse(const char *text, const char *source, const ColumnDef *columns, size_t n_columns,
                Predicate **ret, size_t *ret_n, char *reason, size_t reason_size);
Predicate *where_free(Predicate *p, size_t n);

/* What a clause's name stands for: 0 with its index (Predicate.column) and the type its
 * literals are parsed as, or -EINVAL with a one-line reason. */
typedef int (*WhereResolve)(void *userdata, const char *name, int *ret_index, ValueType *ret_type,
                            char *reason, size_t reason_size);
/* where_parse with names resolved by resolve: where_match then takes the array of
 * values the indices point into. */
int where_parse_names(const char *text, WhereResolve resolve, void *userdata, Predicate **ret,
                      size_t *ret_n, char *reason, size_t reason_size);

/* Applies an ordering operator to a three-way comparison (negative, zero, positive). */
static inline bool where_op_holds(CmpOp op, int c)
{
        switch (op) {
        case CMP_EQ: return c == 0;
        case CMP_NE: return c != 0;
        case CMP_LT: return c < 0;
        case CMP_LE: return c <= 0;
        case CMP_GT: return c > 0;
        case CMP_GE: return c >= 0;
        case CMP_IN: break;
        }
        return false;
}

/* Whether the one value x satisfies p. */
static inline bool where_clause_match(const Predicate *p, const Value *x)
{
        if (x->type == VALUE_NIL)
                return false; /* a missing value compares as unknown: never true */
        bool hit = false;
        switch (x->type) {
        case VALUE_STR:
                for (size_t i = 0; i < p->n_literals && !hit; i++)
                        hit = p->literals[i].len == x->len &&
                              memcmp(p->literals[i].s, x->s, x->len) == 0;
                return p->op == CMP_NE ? !hit : hit;
        case VALUE_NUM: {
                double a = x->d;
                if (a != a)
                        return p->op == CMP_NE; /* NaN equals nothing, orders nowhere */
                if (p->op == CMP_IN) {
                        for (size_t i = 0; i < p->n_literals; i++)
                                if (p->literals[i].d == a)
                                        return true;
                        return false;
                }
                double b = p->literals[0].d;
                return where_op_holds(p->op, (a > b) - (a < b));
        }
        default: {
                int64_t a = x->i;
                if (p->op == CMP_IN) {
                        for (size_t i = 0; i < p->n_literals; i++)
                                if (p->literals[i].i == a)
                                        return true;
                        return false;
                }
                int64_t b = p->literals[0].i;
                return where_op_holds(p->op, (a > b) - (a < b));
        }
        }
}

/* Whether a row (one Value per source column) satisfies all n clauses of p. */
static inline bool where_match(const Predicate *p, size_t n, const Value *row)
{
        for (size_t i = 0; i < n; i++)
                if (!where_clause_match(&p[i], &row[p[i].column]))
                        return false;
        return true;
}

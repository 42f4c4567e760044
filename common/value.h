/* Typed cells: the values a source column holds and a snapshot stores. */
#pragma once

#include "util.h"

typedef enum ValueType {
        VALUE_NIL = 0,
        VALUE_STR,
        VALUE_INT,  /* int64 */
        VALUE_NUM,  /* IEEE double */
        VALUE_TIME, /* int64 microseconds since the Unix epoch, UTC */
        _VALUE_TYPE_MAX,
} ValueType;

typedef struct Value {
        uint8_t type; /* ValueType */
        uint32_t len; /* VALUE_STR: byte length, the string is not NUL-terminated */
        union {
                const char *s;
                int64_t i;
                double d;
        };
} Value;

/* A declared column of a source: what a config names and a where clause compares. */
typedef struct ColumnDef {
        char *name;
        ValueType type;
} ColumnDef;

const char *value_type_to_string(ValueType t);
/* Parses "str", "int", "num", "time"; -EINVAL otherwise. */
int value_type_from_string(const char *s, ValueType *ret);

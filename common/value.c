#include "value.h"

static const char *const value_type_names[_VALUE_TYPE_MAX] = {
    [VALUE_NIL] = "nil", [VALUE_STR] = "str",   [VALUE_INT] = "int",
    [VALUE_NUM] = "num", [VALUE_TIME] = "time",
};

const char *value_type_to_string(ValueType t)
{
        return (unsigned)t < _VALUE_TYPE_MAX ? value_type_names[t] : "invalid";
}

int value_type_from_string(const char *s, ValueType *ret)
{
        for (int t = VALUE_STR; t < _VALUE_TYPE_MAX; t++)
                if (strcmp(s, value_type_names[t]) == 0) {
                        *ret = (ValueType)t;
                        return 0;
                }
        return -EINVAL;
}

#include "strv.h"

int strv_split_quoted(const char *s, char sep, char ***ret)
{
        size_t n = 0, cap = 8;
        _cleanup_(strv_freep) char **items = calloc(cap + 1, sizeof(char *));
        if (!items)
                return -ENOMEM;
        const char *start = s;
        char quote = 0;
        for (const char *q = s;; q++) {
                if (quote) {
                        if (*q == quote)
                                quote = 0;
                        else if (!*q)
                                return -EINVAL;
                        continue;
                }
                if (*q == '\'' || *q == '"') {
                        quote = *q;
                        continue;
                }
                if (*q != sep && *q)
                        continue;
                if (n == cap) {
                        char **t = realloc(items, (cap * 2 + 1) * sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        items = t;
                        cap *= 2;
                }
                items[n] = strdup_trim(start, (size_t)(q - start));
                if (!items[n])
                        return -ENOMEM;
                items[++n] = NULL;
                if (!*q)
                        break;
                start = q + 1;
        }
        *ret = TAKE_PTR(items);
        return (int)n;
}

char **strv_free(char **v)
{
        if (!v)
                return NULL;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
        return NULL;
}

char *unquote(char *s)
{
        size_t len = strlen(s);
        if (len >= 2 && (s[0] == '\'' || s[0] == '"') && s[len - 1] == s[0]) {
                s[len - 1] = 0;
                return s + 1;
        }
        return s;
}

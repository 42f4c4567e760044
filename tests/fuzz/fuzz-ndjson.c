/* The NDJSON row parser on any bytes, with jansson as the oracle of what JSON is.
 *
 * The first byte picks the four columns' types ("a".."d"); the rest is split at LF into
 * lines. Checks, beyond "no crash, no leak":
 * - A row is valid JSON: jansson parses the same line to an object, and every value we
 *   typed equals jansson's (strings byte for byte, integers, doubles bit for bit).
 * - What jansson rejects, we reject too (unless only for a number it cannot hold, which
 *   we do not range-check under an undeclared key).
 * - Every value has the column's type or none; every string is valid UTF-8; a bad line
 *   always says why. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "ndjson.h"

static NdjsonParser *parsers[256];
static const char *const names[4] = {"a", "b", "c", "d"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0;
}

static NdjsonParser *parser_for(uint8_t sel, NdjsonColumn *cols)
{
        for (int i = 0; i < 4; i++)
                cols[i] = (NdjsonColumn){names[i], (ValueType)(1 + ((sel >> (2 * i)) & 3))};
        if (!parsers[sel])
                FUZZ_ASSERT(ndjson_parser_new(cols, 4, &parsers[sel]) == 0);
        return parsers[sel];
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned c = s[i];
                size_t k = c < 0x80         ? 1
                           : (c >> 5) == 6  ? 2
                           : (c >> 4) == 14 ? 3
                           : (c >> 3) == 30 ? 4
                                            : 0;
                if (k == 0 || i + k > n)
                        return false;
                uint32_t cp = k == 1 ? c : c & (0x7F >> k);
                for (size_t j = 1; j < k; j++) {
                        if ((s[i + j] & 0xC0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3F);
                }
                static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
                if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                i += k;
        }
        return true;
}

static void check_line(NdjsonParser *p, const NdjsonColumn *cols, const char *line, size_t len)
{
        Value row[4];
        const char *why = NULL;
        int r = ndjson_parse_line(p, line, len, row, &why);
        FUZZ_ASSERT(r == NDJSON_ROW || r == NDJSON_BLANK || r == NDJSON_BAD);
        json_error_t err;
        json_t *j = json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);
        if (fuzz_verbose())
                fprintf(stderr, "line %zu bytes: %d %s; jansson %s\n", len, r, why ? why : "",
                        j ? "ok" : err.text);
        if (r == NDJSON_BAD) {
                FUZZ_ASSERT(why && *why);
                json_decref(j);
                return;
        }
        if (r == NDJSON_BLANK) {
                for (size_t i = 0; i < len; i++)
                        FUZZ_ASSERT(strchr(" \t\r", line[i]) && line[i]);
                json_decref(j);
                return;
        }
        if (!j) {
                /* the only JSON we accept and jansson does not: numbers it cannot hold */
                FUZZ_ASSERT(strstr(err.text, "too big") || strstr(err.text, "overflow"));
                return;
        }
        FUZZ_ASSERT(json_is_object(j));
        for (int i = 0; i < 4; i++) {
                json_t *v = json_object_get(j, names[i]);
                if (row[i].type == VALUE_NIL) {
                        FUZZ_ASSERT(!v || json_is_null(v));
                        continue;
                }
                FUZZ_ASSERT(row[i].type == cols[i].type);
                FUZZ_ASSERT(v);
                switch (row[i].type) {
                case VALUE_STR:
                        FUZZ_ASSERT(utf8_ok((const unsigned char *)row[i].s, row[i].len));
                        FUZZ_ASSERT(json_is_string(v) && json_string_length(v) == row[i].len &&
                                    memcmp(json_string_value(v), row[i].s, row[i].len) == 0);
                        break;
                case VALUE_INT:
                        FUZZ_ASSERT(json_is_integer(v) && json_integer_value(v) == row[i].i);
                        break;
                case VALUE_NUM: {
                        FUZZ_ASSERT(json_is_number(v));
                        if (json_is_real(v)) {
                                double d = json_real_value(v);
                                FUZZ_ASSERT(memcmp(&d, &row[i].d, sizeof(d)) == 0 ||
                                            (d == 0 && row[i].d == 0));
                        }
                        break;
                }
                case VALUE_TIME: FUZZ_ASSERT(json_is_string(v) || json_is_integer(v)); break;
                }
        }
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        NdjsonColumn cols[4];
        NdjsonParser *p = parser_for(data[0], cols);
        const char *text = (const char *)data + 1, *end = text + size - 1;
        while (text <= end) {
                const char *nl = memchr(text, '\n', (size_t)(end - text));
                size_t n = (size_t)((nl ? nl : end) - text);
                /* an exact-size copy, so an overread is ASan's to see */
                char *line = malloc(n ? n : 1);
                FUZZ_ASSERT(line);
                memcpy(line, text, n);
                check_line(p, cols, line, n);
                free(line);
                if (!nl)
                        break;
                text = nl + 1;
        }
        return 0;
}

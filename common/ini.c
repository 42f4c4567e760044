#include "ini.h"

#define INI_MAX_SECTION 256

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = 0;
        return s;
}

/* Cuts an inline comment: ';' or '#' preceded by whitespace. */
static void strip_inline_comment(char *s)
{
        for (char *p = s; *p; p++)
                if ((*p == ';' || *p == '#') && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
                        *p = 0;
                        return;
                }
}

int ini_parse_string(const char *text, IniHandler handler,
                     void (*error)(void *userdata, unsigned line, const char *reason),
                     void *userdata)
{
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char section[INI_MAX_SECTION] = "";
        unsigned line = 0;
        char *save = NULL;
        char *p = copy;
        /* A UTF-8 byte order mark is tolerated. */
        if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
            (unsigned char)p[2] == 0xbf)
                p += 3;
        for (char *raw = p; raw; raw = save) {
                save = strchr(raw, '\n');
                if (save)
                        *save++ = 0;
                line++;
                char *s = trim(raw);
                if (*s == 0 || *s == ';' || *s == '#')
                        continue;
                for (const char *q = s; *q; q++)
                        if ((unsigned char)*q < 0x20 && *q != '\t') {
                                error(userdata, line, "control character in line");
                                return -EINVAL;
                        }
                if (*s == '[') {
                        strip_inline_comment(s);
                        s = trim(s);
                        size_t len = strlen(s);
                        if (len < 3 || s[len - 1] != ']') {
                                error(userdata, line, "malformed section header");
                                return -EINVAL;
                        }
                        s[len - 1] = 0;
                        char *name = trim(s + 1);
                        if (strcpy_checked(section, sizeof(section), name) < 0 || !*name) {
                                error(userdata, line, "bad section name");
                                return -EINVAL;
                        }
                        int r = handler(userdata, line, section, NULL, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                char *eq = strchr(s, '=');
                if (!eq) {
                        error(userdata, line, "expected 'key = value'");
                        return -EINVAL;
                }
                *eq = 0;
                char *key = trim(s);
                char *value = eq + 1;
                strip_inline_comment(value);
                value = trim(value);
                if (!*key) {
                        error(userdata, line, "empty key");
                        return -EINVAL;
                }
                if (!*section) {
                        error(userdata, line, "key outside of any section");
                        return -EINVAL;
                }
                int r = handler(userdata, line, section, key, value);
                if (r < 0)
                        return r;
        }
        return 0;
}

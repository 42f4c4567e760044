#include "pinning.h"

#include <inttypes.h>
#include <stdatomic.h>

#include "log.h"
#include "pin.h"

static atomic_ullong current = PINNING_NONE;

uint64_t pinning_current(void)
{
        return atomic_load_explicit(&current, memory_order_relaxed);
}

static const char *pin_error(int error)
{
        switch (error) {
        case -EBADMSG: return "not a generation number";
        case -EFBIG: return "too long";
        case -EINVAL: return "not a regular file";
        default: return strerror(-error);
        }
}

static void log_change(Pinning *p, const char *dir, uint64_t state, int error, bool present,
                       uint64_t serving)
{
        if (p->logged_any && p->logged_state == state && p->logged_error == error &&
            p->logged_present == present)
                return;
        bool was_pinned = p->logged_any && p->logged_state != PINNING_NONE;
        *p = (Pinning){state, error, present, true};
        char keeping[64] = "; serving the newest valid snapshot instead";
        if (serving)
                snprintf(keeping, sizeof(keeping), "; keeping generation %" PRIu64, serving);
        if (state == PINNING_NONE) {
                if (was_pinned)
                        log_notice("Unpinned: serving the newest valid snapshot in %s again", dir);
        } else if (state == PINNING_UNREADABLE)
                log_warning("Ignoring %s/" PIN_FILE_NAME ": %s%s", dir, pin_error(error), keeping);
        else if (!present)
                log_warning("Pinned generation %" PRIu64 " is not in %s%s", state, dir, keeping);
        else
                log_notice("Pinned to generation %" PRIu64 ": serving it until unpinned", state);
}

size_t pinning_filter(Pinning *p, int dirfd, const char *dir, uint64_t serving, uint64_t *gens,
                      size_t n)
{
        uint64_t g = 0;
        int r = pin_read(dirfd, &g);
        uint64_t state = r > 0 ? g : r == 0 ? PINNING_NONE : PINNING_UNREADABLE;
        atomic_store_explicit(&current, state, memory_order_relaxed);
        size_t at = n;
        if (r > 0)
                for (size_t i = 0; i < n; i++)
                        if (gens[i] == g) {
                                at = i;
                                break;
                        }
        log_change(p, dir, state, r < 0 ? r : 0, at < n, serving);
        if (state == PINNING_NONE)
                return n;
        if (serving == 0) {
                /* nothing to keep serving: the pinned one first, then the newest good one */
                if (at < n) {
                        memmove(gens + 1, gens, at * sizeof(*gens));
                        gens[0] = g;
                }
                return n;
        }
        if (at == n)
                return 0;
        gens[0] = g;
        return 1;
}

void pinning_doc(Doc *d, uint64_t pin)
{
        /* continue the enclosing map after a value placed at the top level */
        d->depth = 1;
        d->is_map[1] = true;
        d->first[1] = false;
        d->after_key = false;
        doc_key(d, "pinned");
        doc_bool(d, pin != PINNING_NONE);
        doc_key(d, "pinned_generation");
        if (pin == PINNING_NONE || pin == PINNING_UNREADABLE)
                doc_nil(d);
        else
                doc_uint(d, pin);
}

void pinning_metrics(Buf *b, uint64_t pin)
{
        buf_puts(b, "# HELP tally_snapshot_pinned 1 if a pin file is in effect (tallyctl pin).\n"
                    "# TYPE tally_snapshot_pinned gauge\n");
        buf_printf(b, "tally_snapshot_pinned %d\n", pin != PINNING_NONE);
        buf_puts(b, "# HELP tally_pinned_generation Generation the pin names (0: none or "
                    "unreadable).\n# TYPE tally_pinned_generation gauge\n");
        buf_printf(b, "tally_pinned_generation %llu\n",
                   (unsigned long long)(pin == PINNING_UNREADABLE ? 0 : pin));
}

const char *pinning_status(char *buf, size_t n, uint64_t pin)
{
        if (pin == PINNING_NONE)
                snprintf(buf, n, "%s", "");
        else if (pin == PINNING_UNREADABLE)
                snprintf(buf, n, ", pin file unusable");
        else
                snprintf(buf, n, ", pinned to generation %" PRIu64, pin);
        return buf;
}

/* tallyctl list: every snapshot in snapshot_dir, newest first, as tallyd would judge it. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "buf.h"
#include "ctl.h"
#include "doc.h"
#include "log.h"
#include "pin.h"
#include "snapshot_dir.h"
#include "snapshot_read.h"
#include "timeparse.h"

typedef struct ViewRows {
        char *name;
        size_t rows;
} ViewRows;

/* What is shown of one file; the snapshot itself is freed at once (they may be large). */
typedef struct Entry {
        uint64_t generation;
        uint64_t bytes;
        bool valid;
        char reason[256];
        int64_t created_usec; /* when valid */
        ViewRows *views;
        size_t n_views;
} Entry;

typedef struct Listing {
        Entry *e;
        size_t n;
        int served_state; /* ctl_query_served(): 1 serving, 0 none, < 0 unknown */
        uint64_t served;
        int pin_state; /* pin_read() */
        uint64_t pinned;
} Listing;

static void listing_done(Listing *l)
{
        for (size_t i = 0; i < l->n; i++) {
                for (size_t v = 0; v < l->e[i].n_views; v++)
                        free(l->e[i].views[v].name);
                free(l->e[i].views);
        }
        free(l->e);
}

static uint64_t age_of(const Ctl *c, const Entry *e)
{
        return snapshot_age_usec(e->created_usec, c->now_usec);
}

static int take_views(Entry *e, const Snapshot *s)
{
        e->created_usec = s->created_usec;
        e->views = calloc(MAX(s->n_views, 1u), sizeof(ViewRows));
        if (!e->views)
                return -ENOMEM;
        for (size_t v = 0; v < s->n_views; v++) {
                e->views[v] = (ViewRows){strdup(s->views[v].name), s->views[v].n_rows};
                e->n_views++;
                if (!e->views[v].name)
                        return -ENOMEM;
        }
        return 0;
}

static const char *pin_reason(int r)
{
        return r == -EBADMSG  ? "not a generation number"
               : r == -EFBIG  ? "too long"
               : r == -EINVAL ? "not a regular file"
                              : strerror(-r);
}

static void print_text(const Ctl *c, const Listing *l)
{
        printf("%-11s %-27s %6s %10s  %-7s %-6s %-24s %s\n", "GENERATION", "CREATED", "AGE", "SIZE",
               "SERVED", "PINNED", "ROWS", "STATUS");
        for (size_t i = 0; i < l->n; i++) {
                const Entry *e = &l->e[i];
                char created[48] = "-", age[16] = "-", size[24], rows[256] = "-";
                if (e->valid) {
                        format_time_rfc3339(created, sizeof(created), e->created_usec);
                        ctl_format_age(age, sizeof(age), age_of(c, e));
                        size_t o = 0;
                        for (size_t v = 0; v < e->n_views && o < sizeof(rows); v++)
                                o += (size_t)snprintf(rows + o, sizeof(rows) - o, "%s%s=%zu",
                                                      v ? "," : "", e->views[v].name,
                                                      e->views[v].rows);
                        if (e->n_views == 0)
                                snprintf(rows, sizeof(rows), "(no views)");
                }
                const char *served = l->served_state < 0                                 ? "unknown"
                                     : l->served_state > 0 && l->served == e->generation ? "yes"
                                                                                         : "no";
                bool pinned = l->pin_state > 0 && l->pinned == e->generation;
                printf("%11" PRIu64 " %-27s %6s %10s  %-7s %-6s %-24s %s%s\n", e->generation,
                       created, age, ctl_format_bytes(size, sizeof(size), e->bytes), served,
                       pinned ? "yes" : "no", rows,
                       e->valid ? "valid" : "invalid: ", e->valid ? "" : e->reason);
        }
        if (l->n == 0)
                printf("(no snapshots in %s)\n", c->config->snapshot_dir);
        if (l->served_state < 0)
                printf("tallyd: not reachable at %s, served generation unknown\n",
                       c->config->server.listen);
        else if (l->served_state == 0)
                printf("tallyd: serving no snapshot yet\n");
        else if (!l->n || l->served != l->e[0].generation)
                printf("tallyd: serving generation %" PRIu64 "\n", l->served);
        if (l->pin_state > 0) {
                bool present = false;
                for (size_t i = 0; i < l->n; i++)
                        present |= l->e[i].generation == l->pinned && l->e[i].valid;
                printf("pinned: generation %" PRIu64 "%s\n", l->pinned,
                       present ? "" : " (missing or invalid: tallyd keeps what it serves)");
        } else if (l->pin_state < 0)
                printf("pin file unusable (%s): tallyd keeps what it serves\n",
                       pin_reason(l->pin_state));
}

static int print_json(const Ctl *c, const Listing *l)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_JSON);
        doc_map(&d, 5);
        doc_key(&d, "snapshot_dir");
        doc_cstr(&d, c->config->snapshot_dir);
        doc_key(&d, "served_generation"); /* null: none or unknown */
        if (l->served_state > 0)
                doc_uint(&d, l->served);
        else
                doc_nil(&d);
        doc_key(&d, "tallyd_reachable");
        doc_bool(&d, l->served_state >= 0);
        doc_key(&d, "pinned_generation");
        if (l->pin_state > 0)
                doc_uint(&d, l->pinned);
        else
                doc_nil(&d);
        doc_key(&d, "snapshots");
        doc_array(&d, (uint32_t)l->n);
        for (size_t i = 0; i < l->n; i++) {
                const Entry *e = &l->e[i];
                doc_map(&d, e->valid ? 9 : 6);
                doc_key(&d, "generation");
                doc_uint(&d, e->generation);
                doc_key(&d, "bytes");
                doc_uint(&d, e->bytes);
                doc_key(&d, "valid");
                doc_bool(&d, e->valid);
                doc_key(&d, "reason");
                if (e->valid)
                        doc_nil(&d);
                else
                        doc_cstr(&d, e->reason);
                doc_key(&d, "served");
                if (l->served_state < 0)
                        doc_nil(&d);
                else
                        doc_bool(&d, l->served_state > 0 && l->served == e->generation);
                doc_key(&d, "pinned");
                doc_bool(&d, l->pin_state > 0 && l->pinned == e->generation);
                if (e->valid) {
                        char created[48];
                        format_time_rfc3339(created, sizeof(created), e->created_usec);
                        doc_key(&d, "created");
                        doc_cstr(&d, created);
                        doc_key(&d, "age_seconds");
                        doc_uint(&d, age_of(c, e) / USEC_PER_SEC);
                        doc_key(&d, "views");
                        doc_array(&d, (uint32_t)e->n_views);
                        for (size_t v = 0; v < e->n_views; v++) {
                                doc_map(&d, 2);
                                doc_key(&d, "name");
                                doc_cstr(&d, e->views[v].name);
                                doc_key(&d, "rows");
                                doc_uint(&d, e->views[v].rows);
                                doc_end(&d);
                        }
                        doc_end(&d);
                }
                doc_end(&d);
        }
        doc_end(&d);
        doc_end(&d);
        buf_putc(&b, '\n');
        if (!buf_ok(&b))
                return log_error_errno(ENOMEM, "Cannot render the listing: %m");
        fwrite(b.data, 1, b.len, stdout);
        return 0;
}

int ctl_list(const Ctl *c, int argc, char **argv)
{
        int dirfd = ctl_dirfd(c);
        if (dirfd < 0)
                return CTL_EXIT_FAILURE;
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        int r = snapshot_dir_list(dirfd, &gens, &n);
        if (r < 0) {
                log_error_errno(r, "Cannot list %s: %m", c->config->snapshot_dir);
                return CTL_EXIT_FAILURE;
        }
        Listing l = {.e = calloc(MAX(n, 1u), sizeof(Entry))};
        if (!l.e) {
                log_error_errno(ENOMEM, "Cannot list %s: %m", c->config->snapshot_dir);
                return CTL_EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++) {
                Entry *e = &l.e[l.n++];
                e->generation = gens[i];
                char name[SNAPSHOT_NAME_MAX], gen[24], label[64];
                snapshot_name(name, sizeof(name), gens[i]);
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        e->bytes = (uint64_t)st.st_size;
                snprintf(gen, sizeof(gen), "%" PRIu64, gens[i]);
                _cleanup_(snapshot_freep) Snapshot *s = NULL;
                e->valid =
                    ctl_load(c, gen, &s, label, sizeof(label), e->reason, sizeof(e->reason)) == 0;
                if (e->valid && take_views(e, s) < 0) {
                        listing_done(&l);
                        log_error_errno(ENOMEM, "Cannot list %s: %m", c->config->snapshot_dir);
                        return CTL_EXIT_FAILURE;
                }
        }
        l.pin_state = pin_read(dirfd, &l.pinned);
        l.served_state = ctl_query_served(c, &l.served);
        r = c->json ? print_json(c, &l) : (print_text(c, &l), 0);
        listing_done(&l);
        return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

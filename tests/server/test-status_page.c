/* The status page and /v1/history: rendered ahead of requests, untrusted names escaped,
 * served with its CSP, gzip, validators and HEAD through the normal respond() path. */
#include <fcntl.h>
#include <libdeflate.h>
#include <sys/wait.h>

#include "pin.h"
#include "pinning.h"
#include "respond.h"
#include "snapshot_read.h"
#include "snapshot_write.h"
#include "status_page.h"
#include "test.h"

#define HOSTILE "<script>alert(1)</script>&\"'x"

static Served *hostile_served(uint64_t generation, bool usage)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return NULL;
        snapshot_writer_set_stats(w, &(SnapshotStats){.rows_read = 12,
                                                      .rows_rejected = 1,
                                                      .duration_ms = 4,
                                                      .host = "<b>host</b>",
                                                      .has_usage = usage,
                                                      .peak_rss_kib = 204800,
                                                      .cpu_ms = 31,
                                                      .wall_ms = 6});
        SnapshotColumn cols[] = {{"k", VALUE_STR}, {"count", VALUE_INT}};
        snapshot_writer_begin_view(w, HOSTILE, 1, 2, cols, 1);
        snapshot_writer_put_str(w, "a", 1);
        snapshot_writer_put_int(w, 1);
        snapshot_writer_end_view(w);
        _cleanup_free_ void *buf = NULL;
        size_t len;
        if (snapshot_writer_encode(w, generation, (int64_t)now_realtime_usec(), &buf, &len) < 0)
                return NULL;
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[128];
        Served *sv = NULL;
        if (snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)) < 0 ||
            served_new(s, &sv) < 0)
                return NULL;
        return sv;
}

/* GET target through respond(); the body is copied out (NUL-terminated) and released */
static char *get(StatusPage *p, const char *target, const char *accept, const char *enc,
                 const char *inm, Response *resp)
{
        Request req = {.method = METHOD_GET,
                       .target = target,
                       .target_len = strlen(target),
                       .http11 = true,
                       .has_host = true,
                       .accept = accept,
                       .accept_encoding = enc,
                       .if_none_match = inm};
        RespondContext ctx = {
            .now_usec = now_realtime_usec(), .max_age_usec = 600 * USEC_PER_SEC, .status = p};
        respond(&ctx, &req, resp);
        size_t n = response_body_length(resp), o = 0;
        char *out = malloc(n + 1);
        for (size_t i = 0; out && i < resp->n_pieces; i++) {
                memcpy(out + o, resp->pieces[i].p, resp->pieces[i].len);
                o += resp->pieces[i].len;
        }
        if (out)
                out[o] = 0;
        return out;
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static StatusPage *new_page(void)
{
        StatusPage *p = NULL;
        if (status_page_new(&(StatusOptions){.max_age_usec = 600 * USEC_PER_SEC,
                                             .interval_usec = 10 * USEC_PER_SEC},
                            &p) < 0)
                return NULL;
        return p;
}

static void page_before_any_snapshot_says_so(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *html = get(p, "/", NULL, NULL, NULL, &r);
        CHECK_EQ_INT(r.status, 200);
        CHECK_STREQ(r.content_type, "text/html; charset=utf-8");
        CHECK(r.csp && strstr(r.csp, "default-src 'none'"));
        CHECK(html && strstr(html, "id=\"no-snapshot\""));
        CHECK(strstr(html, "<svg ") && strstr(html, "no samples yet"));
        response_done(&r);
}

static void untrusted_names_are_escaped(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Served *sv = hostile_served(3, true);
        CHECK(sv);
        status_page_snapshot(p, sv);
        served_unref(sv);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *html = get(p, "/status", NULL, NULL, NULL, &r);
        CHECK(html);
        CHECK(!strstr(html, "<script>alert"));
        CHECK(!strstr(html, "<b>host"));
        CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;x"));
        CHECK(strstr(html, "&lt;b&gt;host&lt;/b&gt;"));
        /* links percent-encode the name */
        CHECK(strstr(html, "href=\"/v1/views/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%26%22%27x\""));
        CHECK(strstr(html, "%27x?format=csv\""));
        CHECK_EQ_INT(count(html, "<script>"), 1); /* only the refresh script */
        CHECK(strstr(html, "id=\"generation\">3<"));
        CHECK(strstr(html, "data-kib=\"204800\">200.0 MiB"));
        CHECK(strstr(html, "data-pinned=\"false\">not pinned<"));
        response_done(&r);
}

/* The pin as the loader last read it (pinning_filter on a real directory), in all three
 * states; the page shows it from its next render on. */
static void pin_state_is_shown(void)
{
        char dir[] = "/tmp/test-status-pin-XXXXXX";
        CHECK(mkdtemp(dir));
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dirfd >= 0);
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Served *sv = hostile_served(4, true);
        CHECK(sv);
        status_page_snapshot(p, sv);
        served_unref(sv);
        Pinning pinning = {0};
        uint64_t gens[] = {5, 4};
        static const struct {
                const char *file; /* NULL: no pin file */
                const char *shown;
        } cases[] = {
            {"4\n", "data-pinned=\"true\" data-generation=\"4\">pinned to generation 4<"},
            {"four\n", "data-pinned=\"unusable\" class=\"stale\">pin file unusable<"},
            {NULL, "data-pinned=\"false\">not pinned<"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                (void)unlinkat(dirfd, PIN_FILE_NAME, 0);
                if (cases[i].file) {
                        int fd = openat(dirfd, PIN_FILE_NAME, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        CHECK(fd >= 0);
                        CHECK(write_all(fd, cases[i].file, strlen(cases[i].file)) == 0);
                        close(fd);
                }
                (void)pinning_filter(&pinning, dirfd, dir, 4, gens, ELEMENTSOF(gens));
                status_page_tick(p, (int64_t)now_realtime_usec());
                Response r = RESPONSE_NULL;
                _cleanup_free_ char *html = get(p, "/", NULL, NULL, NULL, &r);
                CHECK(html && strstr(html, cases[i].shown));
                response_done(&r);
        }
        (void)unlinkat(dirfd, PIN_FILE_NAME, 0);
        close(dirfd);
        CHECK(rmdir(dir) == 0);
}

static void runs_are_recorded_once_per_generation_and_failures_too(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Served *a = hostile_served(1, true), *b = hostile_served(2, false);
        CHECK(a && b);
        status_page_snapshot(p, a);
        status_page_snapshot(p, b);
        status_page_snapshot(p, a); /* a rollback to generation 1: not a new run */
        served_unref(a);
        served_unref(b);
        struct rusage ru = {.ru_maxrss = 3000, .ru_utime = {1, 500000}};
        status_page_worker_exited(p, 65 << 8, 120, &ru); /* exit 65 */
        status_page_worker_exited(p, 0, 100, &ru);       /* ok: its snapshot counts */
        status_page_worker_exited(p, SIGKILL, 90, NULL);
        for (int i = 0; i < 3; i++)
                status_page_tick(p, (int64_t)now_realtime_usec() + i);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *json = get(p, "/v1/history", NULL, NULL, NULL, &r);
        CHECK(json);
        CHECK_STREQ(r.content_type, "application/json; charset=utf-8");
        CHECK_EQ_INT(count(json, "\"when_usec\""), 4);
        CHECK_EQ_INT(count(json, "\"outcome\":\"failed\""), 2);
        CHECK(strstr(json, "\"exit_status\":65"));
        CHECK(strstr(json, "\"exit_status\":-9"));
        CHECK(strstr(json, "\"peak_rss_kib\":3000,\"cpu_ms\":1500"));
        CHECK(strstr(json, "\"peak_rss_kib\":null")); /* generation 2 had no usage */
        CHECK(strstr(json, "\"interval_ms\":10000"));
        response_done(&r);
        _cleanup_free_ char *html = get(p, "/", NULL, NULL, NULL, &r);
        CHECK(html);
        CHECK_EQ_INT(count(html, "<tr class=\""), 4);
        CHECK_EQ_INT(count(html, "class=\"run ok\""), 2);     /* SVG marks */
        CHECK_EQ_INT(count(html, "class=\"run failed\""), 2); /* SVG marks */
        CHECK(strstr(html, "failed (exit 65)") && strstr(html, "failed (signal 9)"));
        response_done(&r);
}

static void history_counts_every_sample_in_both_formats(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        int64_t t = (int64_t)now_realtime_usec();
        for (int i = 0; i < 25; i++)
                status_page_tick(p, t + i * 10 * (int64_t)USEC_PER_SEC);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *json = get(p, "/v1/history", NULL, NULL, NULL, &r);
        CHECK(json);
        CHECK_EQ_INT(count(json, "],["), 24); /* 25 [t, kib] pairs */
        response_done(&r);
        _cleanup_free_ char *mp = get(p, "/v1/history", "application/msgpack", NULL, NULL, &r);
        CHECK(mp);
        CHECK_STREQ(r.content_type, "application/msgpack");
        CHECK_EQ_INT((unsigned char)mp[0], 0x86); /* fixmap of 6 */
        response_done(&r);
        _cleanup_free_ char *html = get(p, "/", NULL, NULL, NULL, &r);
        CHECK(html && strstr(html, "id=\"rss-samples\">25<"));
        response_done(&r);
}

static void gzip_validators_and_head(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *plain = get(p, "/", NULL, NULL, NULL, &r);
        CHECK(plain);
        size_t plain_len = strlen(plain);
        char etag[64];
        snprintf(etag, sizeof(etag), "%s", r.etag);
        response_done(&r);
        _cleanup_free_ char *gz = get(p, "/", NULL, "gzip", NULL, &r);
        CHECK(gz);
        CHECK_STREQ(r.content_encoding, "gzip");
        size_t gz_len = response_body_length(&r);
        response_done(&r);
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        _cleanup_free_ char *out = malloc(plain_len + 1);
        size_t got = 0;
        CHECK(d && out);
        CHECK(libdeflate_gzip_decompress(d, gz, gz_len, out, plain_len, &got) == 0);
        libdeflate_free_decompressor(d);
        CHECK(got == plain_len && memcmp(out, plain, plain_len) == 0);
        free(get(p, "/", NULL, NULL, etag, &r));
        CHECK_EQ_INT(r.status, 304);
        CHECK(r.no_body);
        response_done(&r);
        status_page_tick(p, (int64_t)now_realtime_usec()); /* a new render: a new ETag */
        free(get(p, "/", NULL, NULL, etag, &r));
        CHECK_EQ_INT(r.status, 200);
        response_done(&r);
        Request head = {.method = METHOD_HEAD,
                        .target = "/",
                        .target_len = 1,
                        .http11 = true,
                        .has_host = true};
        RespondContext ctx = {.status = p};
        respond(&ctx, &head, &r);
        CHECK_EQ_INT(r.status, 200);
        CHECK(r.no_body && response_body_length(&r) > 0);
        response_done(&r);
}

static void bodies_outlive_a_rerender_while_referenced(void)
{
        _cleanup_(status_page_freep) StatusPage *p = new_page();
        CHECK(p);
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *first = get(p, "/", NULL, "gzip", NULL, &r);
        CHECK(first);
        CHECK(r.shared == 1u && r.n_pieces == 1); /* the gzip body, by reference */
        /* what the glue does for a slow client: one more reference per piece in flight */
        void *held = r.keep_ref(r.keep);
        Piece piece = r.pieces[0];
        response_done(&r);
        for (int i = 0; i < 3; i++)
                status_page_tick(p, (int64_t)now_realtime_usec());
        CHECK(memcmp(piece.p, first, piece.len) == 0); /* still mapped, unchanged */
        r.keep_unref(NULL, 0, held);
}

static void without_a_status_page_the_routes_are_not_found(void)
{
        Response r = RESPONSE_NULL;
        free(get(NULL, "/", NULL, NULL, NULL, &r));
        CHECK_EQ_INT(r.status, 404);
        response_done(&r);
}

static void bad_interval_in_the_environment_is_refused(void)
{
        StatusPage *p = NULL;
        setenv("TALLYD_HISTORY_INTERVAL", "0ms", 1);
        CHECK_EQ_INT(status_page_new(&(StatusOptions){0}, &p), -EINVAL);
        setenv("TALLYD_HISTORY_INTERVAL", "soon", 1);
        CHECK_EQ_INT(status_page_new(&(StatusOptions){0}, &p), -EINVAL);
        setenv("TALLYD_HISTORY_INTERVAL", "5ms", 1);
        CHECK_EQ_INT(status_page_new(&(StatusOptions){0}, &p), 0);
        unsetenv("TALLYD_HISTORY_INTERVAL");
        Response r = RESPONSE_NULL;
        _cleanup_free_ char *json = get(p, "/v1/history", NULL, NULL, NULL, &r);
        CHECK(json && strstr(json, "\"interval_ms\":5,"));
        response_done(&r);
        status_page_free(p);
}

TEST_MAIN(TEST_CASE(page_before_any_snapshot_says_so), TEST_CASE(untrusted_names_are_escaped),
          TEST_CASE(pin_state_is_shown),
          TEST_CASE(runs_are_recorded_once_per_generation_and_failures_too),
          TEST_CASE(history_counts_every_sample_in_both_formats),
          TEST_CASE(gzip_validators_and_head),
          TEST_CASE(bodies_outlive_a_rerender_while_referenced),
          TEST_CASE(without_a_status_page_the_routes_are_not_found),
          TEST_CASE(bad_interval_in_the_environment_is_refused))

/* The transport alone: the real transport on a real loopback socket, driven by a handler that
 * hands back prepared Responses, read by a raw client. */
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "httpd.h"
#include "listen.h"
#include "snapfix.h"
#include "test.h"

typedef struct Fixture {
        struct event_base *base;
        Httpd *httpd;
        int listen_fd;
        ConnLimit limit;
        atomic_ullong accepted;
        Response next; /* what the handler answers */
        int sent_status;
        unsigned handled;
        Request last; /* target copied into last_target */
        char last_target[256];
} Fixture;

static void handle(void *userdata, const Request *req, Response *resp)
{
        Fixture *f = userdata;
        f->handled++;
        f->last = *req;
        snprintf(f->last_target, sizeof(f->last_target), "%.*s", (int)req->target_len, req->target);
        *resp = f->next;
}

static void sent(void *userdata, int status)
{
        ((Fixture *)userdata)->sent_status = status;
}

static int fixture_init_with(Fixture *f, unsigned max_conns, uint64_t timeout_usec)
{
        *f = (Fixture){.listen_fd = -1, .limit.max = max_conns};
        f->base = event_base_new();
        if (!f->base || event_base_priority_init(f->base, 2) < 0 ||
            listen_open("127.0.0.1:0", &f->listen_fd) < 0)
                return -ENOMEM;
        HttpdOptions o = {
            .listen_fd = f->listen_fd,
            .limit = &f->limit,
            .max_header_bytes = 8192,
            .timeout_usec = timeout_usec,
            .accepted = &f->accepted,
            .handle = handle,
            .sent = sent,
            .userdata = f,
        };
        return httpd_new(f->base, &o, &f->httpd);
}

static int fixture_init(Fixture *f)
{
        return fixture_init_with(f, 16, 5 * USEC_PER_SEC);
}

static void fixture_done(Fixture *f)
{
        httpd_free(f->httpd);
        if (f->listen_fd >= 0)
                close(f->listen_fd); /* shared by the loops, so not the transport's to close */
        if (f->base)
                event_base_free(f->base);
}

static int client(Fixture *f)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        if (getsockname(f->listen_fd, (struct sockaddr *)&a, &alen) < 0)
                return -1;
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, alen) < 0) {
                if (c >= 0)
                        close(c);
                return -1;
        }
        return c;
}

/* Reads from c, running the loop, until the server closes it (or 5 s). */
static size_t read_all(Fixture *f, int c, char *out, size_t n)
{
        fcntl(c, F_SETFL, O_NONBLOCK);
        size_t got = 0;
        uint64_t deadline = now_monotonic_usec() + 5 * USEC_PER_SEC;
        while (now_monotonic_usec() < deadline) {
                event_base_loop(f->base, EVLOOP_NONBLOCK);
                ssize_t k = read(c, out + got, n - 1 - got);
                if (k == 0)
                        break;
                if (k > 0)
                        got += (size_t)k;
        }
        out[got] = 0;
        return got;
}

/* Sends req on a new connection and runs the loop until the server closes it. */
static size_t exchange(Fixture *f, const char *req, char *out, size_t n)
{
        int c = client(f);
        if (c < 0 || write(c, req, strlen(req)) != (ssize_t)strlen(req))
                return 0;
        size_t got = read_all(f, c, out, n);
        close(c);
        return got;
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

#define GET_CLOSE "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

static void test_pieces_are_sent_in_order_with_headers(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = (Response){.status = 200, .content_type = "application/json", .etag = "W/\"1\""};
        f.next.pieces[0] = (Piece){"{\"a\":", 5};
        f.next.pieces[1] = (Piece){"1}", 2};
        f.next.n_pieces = 2;
        char out[4096];
        CHECK(exchange(&f, GET_CLOSE, out, sizeof(out)) > 0);
        CHECK(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
        CHECK(strstr(out, "\r\nETag: W/\"1\"\r\n"));
        CHECK(strstr(out, "\r\nContent-Length: 7\r\n"));
        CHECK(strstr(out, "\r\n\r\n{\"a\":1}"));
        CHECK_EQ_INT(f.sent_status, 200);
        CHECK_EQ_INT(atomic_load(&f.accepted), 1);
}

static void test_a_header_value_with_crlf_fails_the_response(void)
{
        /* a header value with CR/LF would inject a header: the response must not go out */
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = (Response){
            .status = 405, .content_type = "application/json", .allow = "GET\r\nX-Injected: 1"};
        f.next.pieces[0] = (Piece){"{}", 2};
        f.next.n_pieces = 1;
        char out[4096];
        CHECK(exchange(&f, GET_CLOSE, out, sizeof(out)) > 0);
        CHECK(strncmp(out, "HTTP/1.1 500 ", 13) == 0);
        CHECK(!strstr(out, "X-Injected"));
        CHECK_EQ_INT(f.sent_status, 500);
}

static void test_shared_pieces_hold_the_snapshot_until_sent(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        Snapshot *s = snapfix_build(9, 600);
        CHECK(s);
        Served *sv = NULL;
        CHECK_EQ_INT(served_new(s, &sv), 0);
        snapshot_free(s);
        Piece body = sv->views[0].json.full;
        CHECK(body.len > 8192); /* long enough to go out by reference */
        f.next = (Response){.status = 200, .content_type = "application/json", .hold = sv};
        f.next.pieces[0] = body;
        f.next.n_pieces = 1;
        f.next.shared = 1;
        static char out[1 << 20];
        size_t n = exchange(&f, GET_CLOSE, out, sizeof(out));
        CHECK(n > body.len);
        CHECK(memcmp(out + n - body.len, body.p, body.len) == 0);
        CHECK_EQ_INT(atomic_load(&sv->refs), 1); /* the transport's reference is gone */
        served_unref(sv);
}

static void test_connections_count_against_the_limit_until_closed(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = (Response){.status = 200, .content_type = "text/plain"};
        char out[4096];
        CHECK(exchange(&f, GET_CLOSE, out, sizeof(out)) > 0);
        for (int i = 0; i < 100 && atomic_load(&f.limit.open) > 0; i++)
                event_base_loop(f.base, EVLOOP_NONBLOCK);
        CHECK_EQ_INT(atomic_load(&f.limit.open), 0);
}

static Response body_response(const char *body)
{
        Response r = {.status = 200, .content_type = "application/json"};
        r.pieces[0] = (Piece){body, strlen(body)};
        r.n_pieces = 1;
        return r;
}

static void test_pipelined_requests_are_answered_in_order(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = body_response("{}");
        char out[8192];
        CHECK(exchange(&f,
                       "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       out, sizeof(out)) > 0);
        CHECK_EQ_INT(count(out, "HTTP/1.1 200 OK\r\n"), 3);
        CHECK_EQ_INT(f.handled, 3);
        CHECK_STREQ(f.last_target, "/3");
        CHECK_EQ_INT(count(out, "Connection: close"), 1);
}

static void test_a_request_sent_byte_by_byte_is_answered(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = body_response("{}");
        int c = client(&f);
        CHECK(c >= 0);
        const char *req = GET_CLOSE;
        for (size_t i = 0; req[i]; i++) {
                CHECK(write(c, req + i, 1) == 1);
                for (int k = 0; k < 3; k++)
                        event_base_loop(f.base, EVLOOP_NONBLOCK);
                CHECK_EQ_INT(f.handled, req[i + 1] ? 0 : 1);
        }
        char out[4096];
        read_all(&f, c, out, sizeof(out));
        close(c);
        CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
}

static void test_a_refused_request_is_answered_in_json_and_closed(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = body_response("{}");
        char out[4096];
        CHECK(exchange(&f, "FOO / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n", out,
                       sizeof(out)) > 0);
        CHECK(strncmp(out, "HTTP/1.1 501 ", 13) == 0);
        CHECK(strstr(out, "\r\nContent-Type: application/json; charset=utf-8\r\n"));
        CHECK(strstr(out, "\r\nConnection: close\r\n"));
        CHECK(strstr(out, "\r\n\r\n{\"error\":\"method not implemented\",\"status\":501}"));
        CHECK_EQ_INT(f.handled, 0); /* and nothing after it on that connection */
}

static void test_headers_over_the_limit_get_431(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        static char req[9000];
        memset(req, 'v', sizeof(req) - 1);
        memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
        char out[4096];
        CHECK(exchange(&f, req, out, sizeof(out)) > 0);
        CHECK(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
        CHECK(strstr(out, "\"status\":431}"));
}

static void test_http10_is_answered_as_10_and_closed(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = body_response("{}");
        char out[4096];
        CHECK(exchange(&f, "GET / HTTP/1.0\r\n\r\n", out, sizeof(out)) > 0);
        CHECK(strncmp(out, "HTTP/1.0 200 OK\r\n", 17) == 0);
        CHECK(strstr(out, "\r\nConnection: close\r\n"));
        CHECK(strstr(out, "\r\nDate: "));
        CHECK(!f.last.http11);
}

static void test_head_sends_the_length_but_no_body(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        f.next = body_response("{\"a\":1}");
        f.next.no_body = true;
        char out[4096];
        CHECK(exchange(&f, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out,
                       sizeof(out)) > 0);
        CHECK(strstr(out, "\r\nContent-Length: 7\r\n"));
        CHECK(strstr(out, "\r\n\r\n") + 4 == out + strlen(out));
        CHECK_EQ_INT(f.last.method, METHOD_HEAD);
}

static void test_a_write_that_waits_holds_the_snapshot_and_resumes(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init(&f), 0);
        Snapshot *s = snapfix_build(9, 10);
        CHECK(s);
        Served *sv = NULL;
        CHECK_EQ_INT(served_new(s, &sv), 0);
        snapshot_free(s);
        /* far more than the socket buffers take: the write must wait for the reader */
        static char big[16 << 20];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)('a' + i % 26);
        f.next = (Response){.status = 200, .content_type = "text/plain", .hold = sv};
        f.next.pieces[0] = (Piece){big, sizeof(big)};
        f.next.n_pieces = 1;
        f.next.shared = 1;
        int c = client(&f);
        CHECK(c >= 0);
        CHECK(write(c, GET_CLOSE, strlen(GET_CLOSE)) == (ssize_t)strlen(GET_CLOSE));
        for (int i = 0; i < 100 && f.handled == 0; i++)
                event_base_loop(f.base, EVLOOP_NONBLOCK);
        CHECK_EQ_INT(f.handled, 1);
        CHECK_EQ_INT(atomic_load(&sv->refs), 2); /* the waiting write's reference */
        static char out[(16 << 20) + 4096];
        size_t n = read_all(&f, c, out, sizeof(out));
        close(c);
        CHECK(n > sizeof(big));
        CHECK(memcmp(out + n - sizeof(big), big, sizeof(big)) == 0);
        CHECK_EQ_INT(atomic_load(&sv->refs), 1);
        served_unref(sv);
}

static void test_over_the_limit_a_connection_waits_for_a_free_slot(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init_with(&f, 1, 5 * USEC_PER_SEC), 0);
        f.next = body_response("{}");
        int a = client(&f), b = client(&f);
        CHECK(a >= 0 && b >= 0);
        const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        CHECK(write(a, req, strlen(req)) > 0 && write(b, req, strlen(req)) > 0);
        for (int i = 0; i < 200 && f.handled < 1; i++)
                event_base_loop(f.base, EVLOOP_NONBLOCK);
        for (int i = 0; i < 20; i++)
                event_base_loop(f.base, EVLOOP_NONBLOCK);
        CHECK_EQ_INT(f.handled, 1);
        CHECK_EQ_INT(atomic_load(&f.accepted), 1);
        CHECK_EQ_INT(atomic_load(&f.limit.open), 1);
        close(a);
        for (int i = 0; i < 200 && f.handled < 2; i++)
                event_base_loop(f.base, EVLOOP_NONBLOCK);
        CHECK_EQ_INT(f.handled, 2);
        CHECK_EQ_INT(atomic_load(&f.accepted), 2);
        close(b);
}

static void test_an_idle_connection_is_closed_at_the_timeout(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture_init_with(&f, 16, 200 * USEC_PER_MSEC), 0);
        int c = client(&f);
        CHECK(c >= 0);
        CHECK(write(c, "GET / HT", 8) == 8);
        uint64_t t0 = now_monotonic_usec();
        char out[256];
        read_all(&f, c, out, sizeof(out));
        uint64_t took = now_monotonic_usec() - t0;
        close(c);
        CHECK(took >= 150 * USEC_PER_MSEC && took < 2 * USEC_PER_SEC);
        CHECK_EQ_INT(f.handled, 0);
}

TEST_MAIN(TEST_CASE(test_pieces_are_sent_in_order_with_headers),
          TEST_CASE(test_pipelined_requests_are_answered_in_order),
          TEST_CASE(test_a_request_sent_byte_by_byte_is_answered),
          TEST_CASE(test_a_refused_request_is_answered_in_json_and_closed),
          TEST_CASE(test_headers_over_the_limit_get_431),
          TEST_CASE(test_http10_is_answered_as_10_and_closed),
          TEST_CASE(test_head_sends_the_length_but_no_body),
          TEST_CASE(test_a_write_that_waits_holds_the_snapshot_and_resumes),
          TEST_CASE(test_over_the_limit_a_connection_waits_for_a_free_slot),
          TEST_CASE(test_an_idle_connection_is_closed_at_the_timeout),
          TEST_CASE(test_a_header_value_with_crlf_fails_the_response),
          TEST_CASE(test_shared_pieces_hold_the_snapshot_until_sent),
          TEST_CASE(test_connections_count_against_the_limit_until_closed))

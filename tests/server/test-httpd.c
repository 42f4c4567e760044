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
} Fixture;

static void handle(void *userdata, const Request *req, Response *resp)
{
        Fixture *f = userdata;
        *resp = f->next;
}

static void sent(void *userdata, int status)
{
        ((Fixture *)userdata)->sent_status = status;
}

static int fixture_init(Fixture *f)
{
        *f = (Fixture){.listen_fd = -1, .limit.max = 16};
        f->base = event_base_new();
        if (!f->base || event_base_priority_init(f->base, 2) < 0 ||
            listen_open("127.0.0.1:0", &f->listen_fd) < 0)
                return -ENOMEM;
        HttpdOptions o = {
            .listen_fd = f->listen_fd,
            .limit = &f->limit,
            .max_header_bytes = 8192,
            .timeout_usec = 5 * USEC_PER_SEC,
            .accepted = &f->accepted,
            .handle = handle,
            .sent = sent,
            .userdata = f,
        };
        return httpd_new(f->base, &o, &f->httpd);
}

static void fixture_done(Fixture *f)
{
        httpd_free(f->httpd);
        if (f->listen_fd >= 0)
                close(f->listen_fd); /* shared by the loops, so not the transport's to close */
        if (f->base)
                event_base_free(f->base);
}

/* Sends req on a new connection and runs the loop until the server closes it. */
static size_t exchange(Fixture *f, const char *req, char *out, size_t n)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        if (getsockname(f->listen_fd, (struct sockaddr *)&a, &alen) < 0)
                return 0;
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, alen) < 0 ||
            write(c, req, strlen(req)) != (ssize_t)strlen(req))
                return 0;
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
        close(c);
        out[got] = 0;
        return got;
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

TEST_MAIN(TEST_CASE(test_pieces_are_sent_in_order_with_headers),
          TEST_CASE(test_a_header_value_with_crlf_fails_the_response),
          TEST_CASE(test_shared_pieces_hold_the_snapshot_until_sent),
          TEST_CASE(test_connections_count_against_the_limit_until_closed))

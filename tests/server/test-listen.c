#include <fcntl.h>
#include <sys/socket.h>

#include "listen.h"
#include "test.h"

static int parse(const char *a, char *host, char *port)
{
        return listen_parse_address(a, host, 64, port, 8);
}

static void test_host_and_port_are_split(void)
{
        char host[64], port[8];
        CHECK_EQ_INT(parse("127.0.0.1:8080", host, port), 0);
        CHECK_STREQ(host, "127.0.0.1");
        CHECK_STREQ(port, "8080");
        CHECK_EQ_INT(parse(":80", host, port), 0); /* every address */
        CHECK_STREQ(host, "");
}

static void test_ipv6_is_bracketed(void)
{
        char host[64], port[8];
        CHECK_EQ_INT(parse("[::1]:9", host, port), 0);
        CHECK_STREQ(host, "::1");
        CHECK_STREQ(port, "9");
        CHECK_EQ_INT(parse("[::1]9", host, port), -EINVAL);
        CHECK_EQ_INT(parse("[::1:9", host, port), -EINVAL);
}

static void test_bad_ports_are_refused(void)
{
        char host[64], port[8];
        CHECK_EQ_INT(parse("localhost", host, port), -EINVAL);
        CHECK_EQ_INT(parse("h:", host, port), -EINVAL);
        CHECK_EQ_INT(parse("h:65536", host, port), -EINVAL);
        CHECK_EQ_INT(parse("h:8o", host, port), -EINVAL);
        CHECK_EQ_INT(parse("h:000080", host, port), -EINVAL);
}

static void test_host_longer_than_the_buffer_is_refused(void)
{
        char host[64], port[8], addr[128];
        memset(addr, 'h', 100);
        strcpy(addr + 100, ":80");
        CHECK_EQ_INT(parse(addr, host, port), -EINVAL);
}

static void test_open_listens_non_blocking(void)
{
        int fd = -1;
        CHECK_EQ_INT(listen_open("127.0.0.1:0", &fd), 0);
        int accepting = 0;
        socklen_t len = sizeof(accepting);
        CHECK(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting);
        CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
        close(fd);
        CHECK_EQ_INT(listen_open("127.0.0.1", &fd), -EINVAL);
}

TEST_MAIN(TEST_CASE(test_host_and_port_are_split), TEST_CASE(test_ipv6_is_bracketed),
          TEST_CASE(test_bad_ports_are_refused),
          TEST_CASE(test_host_longer_than_the_buffer_is_refused),
          TEST_CASE(test_open_listens_non_blocking))

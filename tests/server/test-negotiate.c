#include "negotiate.h"
#include "test.h"

static void test_accept_negotiation(void)
{
        CHECK(!accept_wants_msgpack(NULL));
        CHECK(!accept_wants_msgpack("application/json"));
        CHECK(accept_wants_msgpack("application/msgpack"));
        CHECK(accept_wants_msgpack("application/json;q=0.5, application/x-msgpack"));
        CHECK(!accept_wants_msgpack("application/msgpack;q=0, application/json"));
        CHECK(!accept_wants_msgpack("application/json, application/msgpack;q=0.9"));
        CHECK(accept_wants_msgpack("*/*;q=0.1, application/msgpack"));
}

static void test_accept_picks_a_representation(void)
{
        CHECK_EQ_INT(accept_representation(NULL), REP_JSON);
        CHECK_EQ_INT(accept_representation("text/csv"), REP_CSV);
        CHECK_EQ_INT(accept_representation("TEXT/CSV; charset=utf-8"), REP_CSV);
        CHECK_EQ_INT(accept_representation("text/*"), REP_CSV);
        CHECK_EQ_INT(accept_representation("application/json, text/csv;q=0.5"), REP_JSON);
        CHECK_EQ_INT(accept_representation("application/json;q=0.5, text/csv"), REP_CSV);
        CHECK_EQ_INT(accept_representation("*/*, text/csv"), REP_CSV); /* explicit over any */
        CHECK_EQ_INT(accept_representation("text/csv;q=0"), REP_JSON);
        CHECK_EQ_INT(accept_representation("text/csv, application/msgpack"), REP_MSGPACK);
        CHECK_EQ_INT(accept_representation("text/csv, application/msgpack;q=0.9"), REP_CSV);
        /* a browser's Accept: JSON, never CSV by way of text/html */
        CHECK_EQ_INT(accept_representation("text/html,application/xhtml+xml,application/xml;"
                                           "q=0.9,*/*;q=0.8"),
                     REP_JSON);
}

static void test_accept_encoding(void)
{
        CHECK(!accept_encoding_gzip(NULL));
        CHECK(accept_encoding_gzip("gzip"));
        CHECK(accept_encoding_gzip("deflate, gzip;q=0.5"));
        CHECK(accept_encoding_gzip("br, GZIP"));
        CHECK(!accept_encoding_gzip("gzip;q=0"));
        CHECK(!accept_encoding_gzip("identity"));
        CHECK(accept_encoding_gzip("*"));
        CHECK(!accept_encoding_gzip("*, gzip;q=0"));
}

static void test_etag_matching(void)
{
        CHECK(etag_list_matches("W/\"7-0\"", "W/\"7-0\""));
        CHECK(etag_list_matches("\"7-0\"", "W/\"7-0\"")); /* weak comparison */
        CHECK(etag_list_matches("\"1\", W/\"7-0\"", "W/\"7-0\""));
        CHECK(etag_list_matches("*", "W/\"7-0\""));
        CHECK(!etag_list_matches("W/\"6-0\"", "W/\"7-0\""));
        CHECK(!etag_list_matches("W/\"7-01\"", "W/\"7-0\""));
        CHECK(!etag_list_matches("", "W/\"7-0\""));
}

static void test_if_none_match_decides_alone(void)
{
        /* a matching date does not rescue a non-matching tag */
        CHECK(!conditional_not_modified("W/\"6-0\"", "Wed, 01 May 2024 12:00:00 GMT", "W/\"7-0\"",
                                        "Wed, 01 May 2024 12:00:00 GMT"));
        CHECK(conditional_not_modified("W/\"7-0\"", NULL, "W/\"7-0\"", NULL));
}

static void test_if_modified_since_matches_exactly(void)
{
        const char *lm = "Wed, 01 May 2024 12:00:00 GMT";
        CHECK(conditional_not_modified(NULL, lm, "W/\"7-0\"", lm));
        CHECK(!conditional_not_modified(NULL, "Wed, 01 May 2024 12:00:01 GMT", NULL, lm));
        CHECK(!conditional_not_modified(NULL, lm, NULL, NULL));
        CHECK(!conditional_not_modified(NULL, NULL, "W/\"7-0\"", lm));
}

TEST_MAIN(TEST_CASE(test_accept_negotiation), TEST_CASE(test_accept_picks_a_representation),
          TEST_CASE(test_accept_encoding), TEST_CASE(test_etag_matching),
          TEST_CASE(test_if_none_match_decides_alone),
          TEST_CASE(test_if_modified_since_matches_exactly))

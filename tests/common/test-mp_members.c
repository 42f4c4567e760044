/* mp_members.h: a map's members matched against a table of names, the rest skipped,
 * failures told apart by kind. Maps are spelled in raw msgpack bytes. */
#include "mp_members.h"
#include "test.h"

static const char *const names[] = {"a", "b"};

/* A walk over the bytes of map, names as above. */
static int begin(MpMembers *m, MpCursor *c, const uint8_t *map, size_t len, unsigned depth)
{
        mp_cursor_init(c, map, len);
        return mp_members_begin(m, c, names, ELEMENTSOF(names), depth);
}

static void known_members_come_in_map_order_with_the_cursor_on_their_value(void)
{
        /* {"b": 2, "x": [1, 2], "a": 1} */
        static const uint8_t map[] = {0x83, 0xa1, 'b',  0x02, 0xa1, 'x', 0x92,
                                      0x01, 0x02, 0xa1, 'a',  0x01, 0xc0};
        MpCursor c;
        MpMembers m;
        unsigned f;
        uint64_t v;
        CHECK_EQ_INT(begin(&m, &c, map, sizeof(map), 4), 0);
        CHECK_EQ_INT(mp_members_next(&m, &f), 1);
        CHECK_EQ_INT(f, 1);
        CHECK(mp_read_u64(&c, &v) == 0 && v == 2);
        CHECK(!mp_members_all_seen(&m));
        CHECK_EQ_INT(mp_members_next(&m, &f), 1); /* "x" and its array skipped */
        CHECK_EQ_INT(f, 0);
        CHECK(!m.repeat);
        CHECK(mp_read_u64(&c, &v) == 0 && v == 1);
        CHECK_EQ_INT(mp_members_next(&m, &f), 0);
        CHECK(mp_members_all_seen(&m));
        CHECK_EQ_INT(mp_left(&c), 1); /* the walk stops at the map's end */
}

static void a_repeated_member_is_returned_again_and_flagged(void)
{
        /* {"a": 1, "a": 2} */
        static const uint8_t map[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02};
        MpCursor c;
        MpMembers m;
        unsigned f;
        uint64_t v;
        CHECK_EQ_INT(begin(&m, &c, map, sizeof(map), 4), 0);
        CHECK(mp_members_next(&m, &f) == 1 && f == 0 && !m.repeat);
        CHECK(mp_read_u64(&c, &v) == 0);
        CHECK(mp_members_next(&m, &f) == 1 && f == 0 && m.repeat);
        CHECK(mp_read_u64(&c, &v) == 0 && v == 2);
        CHECK_EQ_INT(mp_members_next(&m, &f), 0);
        CHECK(!mp_members_all_seen(&m));
}

/* The fault a walk over map stops at, MP_MEMBERS_OK if it does not fail. */
static MpMembersFault fault_of(const uint8_t *map, size_t len, unsigned depth)
{
        MpCursor c;
        MpMembers m;
        unsigned f;
        int r = begin(&m, &c, map, len, depth);
        while (r >= 0 && (r = mp_members_next(&m, &f)) > 0)
                if (mp_skip(&c, depth) < 0)
                        return MP_MEMBERS_OK;
        return r == -EBADMSG ? m.fault : MP_MEMBERS_OK;
}

static void a_key_that_is_not_a_string_is_a_key_fault(void)
{
        static const uint8_t map[] = {0x81, 0x07, 0x01}; /* {7: 1} */
        CHECK_EQ_INT(fault_of(map, sizeof(map), 4), MP_MEMBERS_KEY_NOT_STR);
}

static void an_unknown_member_too_deep_or_malformed_is_a_value_fault(void)
{
        /* {"x": [[[nil]]]}: too deep for 2, not for 3; {"x": 0xc1}: 0xc1 is never used */
        static const uint8_t deep[] = {0x81, 0xa1, 'x', 0x91, 0x91, 0x91, 0xc0};
        static const uint8_t bad[] = {0x81, 0xa1, 'x', 0xc1};
        CHECK_EQ_INT(fault_of(deep, sizeof(deep), 2), MP_MEMBERS_BAD_VALUE);
        CHECK_EQ_INT(fault_of(deep, sizeof(deep), 3), MP_MEMBERS_OK);
        CHECK_EQ_INT(fault_of(bad, sizeof(bad), 4), MP_MEMBERS_BAD_VALUE);
}

static void anything_but_a_map_or_a_map_longer_than_its_bytes_is_refused(void)
{
        static const uint8_t array[] = {0x91, 0x01};
        static const uint8_t short_map[] = {0x83, 0xa1, 'a', 0x01};
        MpCursor c;
        MpMembers m;
        CHECK_EQ_INT(begin(&m, &c, array, sizeof(array), 4), -EBADMSG);
        CHECK_EQ_INT(begin(&m, &c, short_map, sizeof(short_map), 4), -EBADMSG);
}

TEST_MAIN(TEST_CASE(known_members_come_in_map_order_with_the_cursor_on_their_value),
          TEST_CASE(a_repeated_member_is_returned_again_and_flagged),
          TEST_CASE(a_key_that_is_not_a_string_is_a_key_fault),
          TEST_CASE(an_unknown_member_too_deep_or_malformed_is_a_value_fault),
          TEST_CASE(anything_but_a_map_or_a_map_longer_than_its_bytes_is_refused))

#include "served.h"
#include "snapfix.h"
#include "test.h"

static void test_references_free_at_zero(void)
{
        unsigned before = served_live();
        Served *sv = snapfix_served(9, 10);
        CHECK(sv);
        CHECK_EQ_INT(served_live(), before + 1);
        served_ref(sv);
        served_unref(sv);
        CHECK_EQ_INT(served_live(), before + 1);
        served_unref_cb(NULL, 0, sv);
        CHECK_EQ_INT(served_live(), before);
        served_unref(NULL);
}

static Served *retired;
static void retire(Served *sv, void *userdata)
{
        retired = sv;
        *(int *)userdata += 1;
}

static void test_last_reference_goes_to_the_retire_hook(void)
{
        int calls = 0;
        Served *sv = snapfix_served(9, 10);
        CHECK(sv);
        served_set_retire_hook(retire, &calls);
        served_ref(sv);
        served_unref(sv);
        CHECK_EQ_INT(calls, 0);
        served_unref(sv);
        served_set_retire_hook(NULL, NULL);
        CHECK_EQ_INT(calls, 1);
        CHECK(retired == sv);
        served_release(sv); /* what the loader thread does */
}

static void test_views_are_found_by_exact_name(void)
{
        Served *sv = snapfix_served(9, 1);
        CHECK(sv);
        CHECK(served_find_view(sv, "sales", 5) == &sv->views[0]);
        CHECK(served_find_view(sv, "by_id", 5) == &sv->views[1]);
        CHECK(served_find_view(sv, "sale", 4) == NULL);
        CHECK(served_find_view(sv, "salesx", 6) == NULL);
        served_unref(sv);
}

TEST_MAIN(TEST_CASE(test_references_free_at_zero),
          TEST_CASE(test_last_reference_goes_to_the_retire_hook),
          TEST_CASE(test_views_are_found_by_exact_name))

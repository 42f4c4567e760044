/* Connection tracking for the evhttp transport (part of httpd.c's room, nothing else
 * includes it): the connection limit and a deadline for each whole request.
 *
 * evhttp 2.1 has neither a connection limit nor a deadline for a whole request (its
 * timeout restarts with every byte, so a client trickling one header byte at a time holds
 * a connection forever). Both need to know each connection from accept to close, which
 * evhttp only reveals indirectly: the bufferevent we create for it (its bevcb), whose
 * callback argument evhttp then sets to the evhttp_connection. Right after the accept, at
 * a higher priority than any I/O, the tracker reads that argument back ("adopts" the
 * connection), registers a close callback and arms the request deadline. The deadline is
 * suspended while a request is being answered and re-armed when the response is done. */
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include "httpd.h"

typedef struct ConnTracker ConnTracker;

typedef struct ConnTrackerOptions {
        ConnLimit *limit;
        uint64_t timeout_usec;
        /* Called (any thread) when open connections drop below the limit again. */
        void (*below_limit)(void *userdata);
        void *userdata;
} ConnTrackerOptions;

int conn_tracker_new(struct event_base *base, const ConnTrackerOptions *o, ConnTracker **ret);
/* After evhttp_free() (closing connections call back into the tracker): drops the
 * references to connections accepted but not yet adopted. */
ConnTracker *conn_tracker_free(ConnTracker *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(ConnTracker *, conn_tracker_free);

/* The bevcb: a bufferevent for a connection just accepted, counted against the limit
 * (*ret_at_limit set when this one reached it). NULL when out of memory: evhttp then
 * makes its own bufferevent and the connection is served but not tracked. */
struct bufferevent *conn_tracker_accept(ConnTracker *t, bool *ret_at_limit);
/* A request on a tracked connection is being answered: its deadline waits until the
 * response is sent. */
void conn_tracker_answering(ConnTracker *t, struct evhttp_request *req);

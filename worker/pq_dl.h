/* libpq, loaded when a postgres source is first opened rather than linked.
 *
 * Why: tally-worker is a oneshot started every few minutes; linking libpq would make every
 * run, file sources included, load libpq and what it needs (libssl, libcrypto, GSSAPI,
 * LDAP: 30-odd shared objects) before main(). Loading it at first use, systemd's dlopen
 * pattern, keeps the start of a worker without a postgres source at that of a plain
 * dynamic binary, and a host without libpq.so.5 still runs file and command sources.
 *
 * pg_copy.c includes this after <libpq-fe.h>: each PQ function it calls becomes a call
 * through a table of pointers filled by pq_dl_load(). */
#pragma once

#include <libpq-fe.h>

#define PQ_DL_LIBRARY "libpq.so.5"

/* Loads libpq once (thread-safe); later calls return the first result. 0, or -EOPNOTSUPP
 * with *ret_error (static) naming the library and what dlopen said. */
int pq_dl_load(const char **ret_error);

#define PQ_DL_FUNCTIONS(X)           \
        X(PQcancel)                  \
        X(PQclear)                   \
        X(PQconnectdbParams)         \
        X(PQconnectionNeedsPassword) \
        X(PQconnectionUsedPassword)  \
        X(PQconninfoFree)            \
        X(PQconninfoParse)           \
        X(PQconsumeInput)            \
        X(PQdescribePrepared)        \
        X(PQerrorMessage)            \
        X(PQescapeIdentifier)        \
        X(PQexec)                    \
        X(PQfinish)                  \
        X(PQfname)                   \
        X(PQfreeCancel)              \
        X(PQfreemem)                 \
        X(PQftype)                   \
        X(PQgetCancel)               \
        X(PQgetCopyData)             \
        X(PQgetResult)               \
        X(PQisBusy)                  \
        X(PQnfields)                 \
        X(PQprepare)                 \
        X(PQresultErrorField)        \
        X(PQresultErrorMessage)      \
        X(PQresultStatus)            \
        X(PQsendQuery)               \
        X(PQsocket)                  \
        X(PQstatus)

#ifndef PQ_DL_NO_MACROS
#define PQ_DL_DECLARE(f) extern __typeof__(f) *sym_##f;
PQ_DL_FUNCTIONS(PQ_DL_DECLARE)
#undef PQ_DL_DECLARE
#define PQcancel                  sym_PQcancel
#define PQclear                   sym_PQclear
#define PQconnectdbParams         sym_PQconnectdbParams
#define PQconnectionNeedsPassword sym_PQconnectionNeedsPassword
#define PQconnectionUsedPassword  sym_PQconnectionUsedPassword
#define PQconninfoFree            sym_PQconninfoFree
#define PQconninfoParse           sym_PQconninfoParse
#define PQconsumeInput            sym_PQconsumeInput
#define PQdescribePrepared        sym_PQdescribePrepared
#define PQerrorMessage            sym_PQerrorMessage
#define PQescapeIdentifier        sym_PQescapeIdentifier
#define PQexec                    sym_PQexec
#define PQfinish                  sym_PQfinish
#define PQfname                   sym_PQfname
#define PQfreeCancel              sym_PQfreeCancel
#define PQfreemem                 sym_PQfreemem
#define PQftype                   sym_PQftype
#define PQgetCancel               sym_PQgetCancel
#define PQgetCopyData             sym_PQgetCopyData
#define PQgetResult               sym_PQgetResult
#define PQisBusy                  sym_PQisBusy
#define PQnfields                 sym_PQnfields
#define PQprepare                 sym_PQprepare
#define PQresultErrorField        sym_PQresultErrorField
#define PQresultErrorMessage      sym_PQresultErrorMessage
#define PQresultStatus            sym_PQresultStatus
#define PQsendQuery               sym_PQsendQuery
#define PQsocket                  sym_PQsocket
#define PQstatus                  sym_PQstatus
#endif

#include "snapshot_describe.h"

#include "timeparse.h"

void describe_generation_created(Doc *d, const Snapshot *s)
{
        char created[48];
        format_time_rfc3339(created, sizeof(created), s->created_usec);
        doc_key(d, "generation");
        doc_uint(d, s->generation);
        doc_key(d, "created");
        doc_cstr(d, created);
}

void describe_worker(Doc *d, const Snapshot *s, bool usage)
{
        usage = usage && s->stats.has_usage;
        doc_key(d, "worker");
        doc_map(d, 4 + (usage ? 3 : 0));
        doc_key(d, "rows_read");
        doc_uint(d, s->stats.rows_read);
        doc_key(d, "rows_rejected");
        doc_uint(d, s->stats.rows_rejected);
        doc_key(d, "duration_ms");
        doc_uint(d, s->stats.duration_ms);
        doc_key(d, "host");
        doc_cstr(d, s->stats.host ? s->stats.host : "");
        if (usage) {
                doc_key(d, "peak_rss_kib");
                doc_uint(d, s->stats.peak_rss_kib);
                doc_key(d, "cpu_ms");
                doc_uint(d, s->stats.cpu_ms);
                doc_key(d, "wall_ms");
                doc_uint(d, s->stats.wall_ms);
        }
        doc_end(d);
}

void describe_sources(Doc *d, const Snapshot *s)
{
        doc_key(d, "sources");
        doc_array(d, (uint32_t)s->n_sources);
        for (size_t i = 0; i < s->n_sources; i++) {
                const SnapshotSource *src = &s->sources[i];
                doc_map(d, 5);
                doc_key(d, "name");
                doc_cstr(d, src->name);
                doc_key(d, "type");
                doc_cstr(d, src->type ? src->type : "");
                doc_key(d, "files");
                doc_uint(d, src->files);
                doc_key(d, "rows_read");
                doc_uint(d, src->rows_read);
                doc_key(d, "rows_rejected");
                doc_uint(d, src->rows_rejected);
                doc_end(d);
        }
        doc_end(d);
}

void describe_keys(Doc *d, const SnapshotView *v)
{
        doc_key(d, "keys");
        doc_array(d, (uint32_t)v->n_keys);
        for (size_t i = 0; i < v->n_keys; i++)
                doc_cstr(d, v->columns[i].name);
        doc_end(d);
}

void describe_columns(Doc *d, const SnapshotView *v)
{
        doc_key(d, "columns");
        doc_array(d, (uint32_t)v->n_columns);
        for (size_t i = 0; i < v->n_columns; i++) {
                doc_map(d, 2);
                doc_key(d, "name");
                doc_cstr(d, v->columns[i].name);
                doc_key(d, "type");
                doc_cstr(d, value_type_to_string(v->columns[i].type));
                doc_end(d);
        }
        doc_end(d);
}

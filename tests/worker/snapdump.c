/* snapdump: prints the views of a snapshot file as tab-separated lines, for the shell tests
 * and the reference comparison: "view<TAB>col=value<TAB>..." per row, %.17g for numbers,
 * "nil" for missing cells. */
#include <fcntl.h>
#include <inttypes.h>

#include "snapshot_read.h"
#include "timeparse.h"

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: snapdump FILE\n");
                return 2;
        }
        char reason[256];
        Snapshot *s = NULL;
        if (snapshot_read_file(AT_FDCWD, argv[1], UINT64_C(1) << 30, &s, reason, sizeof(reason)) <
            0) {
                fprintf(stderr, "snapdump: %s: %s\n", argv[1], reason);
                return 1;
        }
        printf("#generation\t%" PRIu64 "\n#rows_read\t%" PRIu64 "\n#rows_rejected\t%" PRIu64 "\n",
               s->generation, s->stats.rows_read, s->stats.rows_rejected);
        for (size_t i = 0; i < s->n_sources; i++)
                printf("#source\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", s->sources[i].name,
                       s->sources[i].files, s->sources[i].rows_read, s->sources[i].rows_rejected);
        for (size_t vi = 0; vi < s->n_views; vi++) {
                const SnapshotView *v = &s->views[vi];
                printf("#view\t%s\t%zu", v->name, v->n_keys);
                for (size_t c = 0; c < v->n_columns; c++)
                        printf("\t%s:%s", v->columns[c].name,
                               value_type_to_string(v->columns[c].type));
                printf("\n");
                for (size_t r = 0; r < v->n_rows; r++) {
                        const Value *row = snapshot_view_row(v, r);
                        printf("%s", v->name);
                        for (size_t c = 0; c < v->n_columns; c++) {
                                const Value *x = &row[c];
                                printf("\t%s=", v->columns[c].name);
                                switch (x->type) {
                                case VALUE_NIL: printf("nil"); break;
                                case VALUE_STR: printf("%.*s", (int)x->len, x->s); break;
                                case VALUE_INT: printf("%" PRId64, x->i); break;
                                case VALUE_NUM: printf("%.17g", x->d); break;
                                case VALUE_TIME: printf("@%" PRId64, x->i); break;
                                default: printf("?");
                                }
                        }
                        printf("\n");
                }
        }
        snapshot_free(s);
        return 0;
}

/* fault-mkhostile KIND VALID OUT: writes a hostile variant of the valid snapshot file
 * VALID to OUT, for the tests that drop bad files into tallyd's snapshot directory.
 *
 * Kinds that keep a correct checksum (so the reader's structural checks are what must
 * catch them) build their own payload; the others damage the valid file's bytes:
 *   truncated      the first half of VALID
 *   truncated-end  all of VALID but its last byte
 *   bitflip        one bit flipped in the middle of VALID's payload
 *   trailing       VALID followed by 16 junk bytes
 *   wrong-version  VALID with format version 3 (the checksum still matches)
 *   bad-bodies     VALID (version 2) whose first view's last row offset points past its
 *                  document, checksum recomputed: the bodies' bounds checks must catch it
 *   huge-views     payload whose views array claims 2^32-1 elements
 *   huge-rows      payload with a view whose rows array claims 2^31 elements
 *   huge-bin       envelope whose payload bin claims 4 GiB
 *   deep           payload holding 100000 nested arrays under an unknown key
 *   not-msgpack    random bytes
 * GEN in the payloads is VALID's generation + 1, so the file would win if accepted. */
#include <inttypes.h>
#include <msgpack.h>
#include <string.h>
#include <xxhash.h>

#include "log.h"
#include "mp_members.h"
#include "snapshot_bodies.h"
#include "snapshot_read.h"

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return -errno;
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len == cap) {
                        cap = cap ? cap * 2 : 65536;
                        uint8_t *b = realloc(buf, cap);
                        if (!b) {
                                free(buf);
                                fclose(f);
                                return -ENOMEM;
                        }
                        buf = b;
                }
                size_t k = fread(buf + len, 1, cap - len, f);
                len += k;
                if (k == 0)
                        break;
        }
        fclose(f);
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* Leaves p on the value of the member name of the payload at buf + poff: 0, or -EBADMSG
 * when it has none. */
static int find_member(MpCursor *p, const uint8_t *buf, size_t poff, size_t plen, const char *name)
{
        const char *const names[] = {name};
        MpMembers m;
        unsigned f;
        mp_cursor_init(p, buf + poff, plen);
        int r = mp_members_begin(&m, p, names, 1, SNAPSHOT_MAX_DEPTH);
        if (r >= 0)
                r = mp_members_next(&m, &f);
        return r > 0 ? 0 : -EBADMSG;
}

/* Finds the payload inside a valid file: offset and length, and its generation. */
static int locate_payload(const uint8_t *buf, size_t len, size_t *ret_off, size_t *ret_len,
                          uint64_t *ret_gen)
{
        uint32_t payload_len;
        const void *payload;
        uint64_t version;
        MpCursor p;
        if (snapshot_envelope_payload(buf, len, &version, &payload, &payload_len) < 0)
                return -EBADMSG;
        *ret_off = (size_t)((const uint8_t *)payload - buf);
        *ret_len = payload_len;
        *ret_gen = 0;
        if (find_member(&p, buf, *ret_off, payload_len, "generation") < 0)
                return -EBADMSG;
        return mp_read_u64(&p, ret_gen);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
        msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* The envelope around payload, with a correct checksum unless told otherwise. */
static void pack_envelope(msgpack_sbuffer *out, const void *payload, size_t len, unsigned version)
{
        msgpack_packer pk;
        msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 4);
        pack_cstr(&pk, SNAPSHOT_FORMAT_NAME);
        msgpack_pack_uint32(&pk, version);
        msgpack_pack_bin_with_body(&pk, payload, len);
        /* always uint64 (0xcf) as the writer does: the reader insists on it */
        uint8_t sum[9] = {0xcf};
        uint64_t h = XXH3_64bits(payload, len);
        for (int i = 0; i < 8; i++)
                sum[1 + i] = (uint8_t)(h >> (56 - 8 * i));
        msgpack_sbuffer_write(out, (const char *)sum, sizeof(sum));
}

/* {"generation": gen, "created_usec": 1, <then the caller's key and value bytes>} */
static void payload_with(msgpack_sbuffer *pl, uint64_t gen, const char *key, const void *raw,
                         size_t raw_len)
{
        msgpack_packer pk;
        msgpack_packer_init(&pk, pl, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        pack_cstr(&pk, "generation");
        msgpack_pack_uint64(&pk, gen);
        pack_cstr(&pk, "created_usec");
        msgpack_pack_int64(&pk, 1);
        pack_cstr(&pk, key);
        msgpack_sbuffer_write(pl, raw, raw_len);
}

static int write_out(const char *path, const void *buf, size_t len)
{
        FILE *f = fopen(path, "wb");
        if (!f || (len && fwrite(buf, 1, len, f) != len) || fclose(f) != 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        return 0;
}

/* Where the bodies bin's bytes start in the file, 0 if none. */
static size_t bodies_offset(const uint8_t *buf, size_t poff, size_t plen)
{
        MpCursor p;
        uint32_t bl;
        const void *b;
        if (find_member(&p, buf, poff, plen, "bodies") < 0 || mp_read_bin(&p, &b, &bl) < 0)
                return 0;
        return (size_t)((const uint8_t *)b - buf);
}

static int bad_bodies(uint8_t *buf, size_t len, size_t poff, size_t plen, const char *out)
{
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[256];
        size_t at = bodies_offset(buf, poff, plen);
        if (snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)) < 0 || !s->bodies ||
            s->n_views == 0 || at == 0) {
                fprintf(stderr, "bad-bodies: VALID is not a version 2 snapshot\n");
                return 2;
        }
        uint8_t *o = buf + at + s->bodies->views[0].json.row_offsets + 4 * s->views[0].n_rows;
        memset(o, 0xff, 4);
        uint64_t h = XXH3_64bits(buf + poff, plen);
        for (int i = 0; i < 8; i++)
                buf[len - 8 + i] = (uint8_t)(h >> (56 - 8 * i));
        return write_out(out, buf, len);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s KIND VALID OUT\n", argv[0]);
                return 2;
        }
        const char *kind = argv[1], *out = argv[3];
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, poff = 0, plen = 0;
        uint64_t gen = 0;
        if (read_file(argv[2], &buf, &len) < 0 ||
            locate_payload(buf, len, &poff, &plen, &gen) < 0) {
                fprintf(stderr, "%s: not a readable snapshot\n", argv[2]);
                return 2;
        }
        gen++;

        if (strcmp(kind, "truncated") == 0)
                return write_out(out, buf, len / 2);
        if (strcmp(kind, "truncated-end") == 0)
                return write_out(out, buf, len - 1);
        if (strcmp(kind, "bitflip") == 0) {
                buf[poff + plen / 2] ^= 0x10;
                return write_out(out, buf, len);
        }
        if (strcmp(kind, "trailing") == 0) {
                uint8_t *b = realloc(buf, len + 16);
                if (!b)
                        return 2;
                buf = b;
                memset(buf + len, 0xc1, 16);
                return write_out(out, buf, len + 16);
        }
        if (strcmp(kind, "bad-bodies") == 0)
                return bad_bodies(buf, len, poff, plen, out);
        if (strcmp(kind, "not-msgpack") == 0) {
                uint8_t junk[4096];
                uint64_t x = 0x9E3779B97F4A7C15;
                for (size_t i = 0; i < sizeof(junk); i++) {
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        junk[i] = (uint8_t)x;
                }
                return write_out(out, junk, sizeof(junk));
        }
        if (strcmp(kind, "huge-bin") == 0) {
                /* a well-formed start whose payload claims 4 GiB, then the real bytes */
                msgpack_sbuffer s;
                msgpack_sbuffer_init(&s);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &s, msgpack_sbuffer_write);
                msgpack_pack_array(&pk, 4);
                pack_cstr(&pk, SNAPSHOT_FORMAT_NAME);
                msgpack_pack_uint32(&pk, SNAPSHOT_FORMAT_VERSION);
                const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
                msgpack_sbuffer_write(&s, (const char *)bin32, sizeof(bin32));
                msgpack_sbuffer_write(&s, (const char *)buf + poff, plen + 9);
                int r = write_out(out, s.data, s.size);
                msgpack_sbuffer_destroy(&s);
                return r;
        }

        msgpack_sbuffer pl, file;
        msgpack_sbuffer_init(&pl);
        msgpack_sbuffer_init(&file);
        unsigned version = SNAPSHOT_FORMAT_VERSION;
        if (strcmp(kind, "wrong-version") == 0) {
                msgpack_sbuffer_write(&pl, (const char *)buf + poff, plen);
                version = SNAPSHOT_FORMAT_VERSION_BODIES + 1;
        } else if (strcmp(kind, "huge-views") == 0) {
                const uint8_t views[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
                payload_with(&pl, gen, "views", views, sizeof(views));
        } else if (strcmp(kind, "huge-rows") == 0) {
                /* [ {name: "sales", keys: 0, columns: [["n","int"]], rows: array32(2^31)} ] */
                msgpack_sbuffer v;
                msgpack_sbuffer_init(&v);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &v, msgpack_sbuffer_write);
                msgpack_pack_array(&pk, 1);
                msgpack_pack_map(&pk, 4);
                pack_cstr(&pk, "name");
                pack_cstr(&pk, "sales");
                pack_cstr(&pk, "keys");
                msgpack_pack_uint32(&pk, 0);
                pack_cstr(&pk, "columns");
                msgpack_pack_array(&pk, 1);
                msgpack_pack_array(&pk, 2);
                pack_cstr(&pk, "n");
                pack_cstr(&pk, "int");
                pack_cstr(&pk, "rows");
                const uint8_t rows[] = {0xdd, 0x80, 0x00, 0x00, 0x00, 0x91, 0x01};
                msgpack_sbuffer_write(&v, (const char *)rows, sizeof(rows));
                payload_with(&pl, gen, "views", v.data, v.size);
                msgpack_sbuffer_destroy(&v);
        } else if (strcmp(kind, "deep") == 0) {
                size_t depth = 100000;
                uint8_t *nest = malloc(depth + 1);
                if (!nest)
                        return 2;
                memset(nest, 0x91, depth); /* fixarray of one element, nested */
                nest[depth] = 0xc0;
                payload_with(&pl, gen, "x-nested", nest, depth + 1);
                free(nest);
        } else {
                fprintf(stderr, "unknown kind '%s'\n", kind);
                return 2;
        }
        pack_envelope(&file, pl.data, pl.size, version);
        int r = write_out(out, file.data, file.size);
        msgpack_sbuffer_destroy(&pl);
        msgpack_sbuffer_destroy(&file);
        return r;
}

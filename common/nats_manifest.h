/* The wire contract between tally-worker and tally-sync over JetStream.
 *
 * A snapshot file travels as chunks (each at most the server's max_payload minus room for
 * headers) published to the stream NATS_STREAM_PREFIX<bucket> on the subject
 *   tally.<bucket>.chunks.<generation>.<16 hex digits, random per publish>
 * each with the headers Nats-Msg-Id (so a retry after a leader change is deduplicated)
 * and Tally-Chunk: <index>. Then, LAST, the manifest below is written to the key
 * NATS_MANIFEST_KEY of the KV bucket <bucket> with a compare-and-swap on the revision the
 * publisher read (create if none): two workers cannot overwrite each other, and a
 * manifest only ever names chunks that are already stored. A consumer fetches stream
 * sequences first_seq..last_seq, keeps the messages on the manifest's subject, places them
 * by Tally-Chunk, and accepts them only if every chunk is there and the sizes add up;
 * then the file's xxh3-64 must match, and the file must validate as tallyd's would.
 *
 * Three encodings. deflate-chunks (what tally-worker sends): the file is cut into slices
 * of chunk_bytes (the last one shorter) and chunk i carries slice i, deflated on its own
 * (raw RFC 1951, libdeflate) or, when that saves too little, as is: a chunk exactly as
 * long as its slice is the slice itself, a shorter one must inflate to exactly the slice.
 * So the publisher deflates chunk i+1 while chunk i is being stored and a consumer
 * inflates each chunk into its place as it arrives. identity: the file as is, cut into
 * chunk_bytes. deflate (an older worker): the whole file deflated, then cut; the wire
 * bytes hash to wire_xxh3.
 *
 * The manifest is text so an operator can read it with any NATS tool:
 *   tally-manifest 1\n  generation N\n  bytes N\n  chunks N\n  chunk_bytes N\n
 *   xxh3 <16 hex>\n  subject S\n  first_seq N\n  last_seq N\n
 * and, when not identity (so a file sent as is reads as it did before these fields):
 *   encoding deflate-chunks\n  raw_bytes N\n
 *   encoding deflate\n  raw_bytes N\n  wire_xxh3 <16 hex>\n
 * bytes counts the wire bytes (all chunks together); chunk_bytes is the raw slice for
 * deflate-chunks, the wire chunk otherwise; xxh3 is always the file's own (raw) hash.
 * Parsing treats it as untrusted: every field required, bounded and consistent; a manifest
 * without encoding is identity (bytes == raw_bytes). */
#pragma once

#include "util.h"

#define NATS_MANIFEST_KEY       "manifest"
#define NATS_STREAM_PREFIX      "tally-chunks-"
#define NATS_CHUNK_HEADER       "Tally-Chunk"
#define NATS_MANIFEST_MAX_BYTES 1024
#define NATS_MAX_CHUNKS         65536
#define NATS_MAX_SUBJECT        256
/* Sequences a consumer may scan for one manifest: a concurrent publisher's chunks may
 * interleave with ours, but not without bound. */
#define NATS_MAX_SCAN_FACTOR 4
/* Deflate cannot expand more than 1032:1 (258 bytes per 2-bit code): a manifest claiming
 * more is lying before a byte is fetched. */
#define NATS_DEFLATE_MAX_RATIO 1032

typedef enum NatsEncoding {
        NATS_ENCODING_IDENTITY = 0,
        NATS_ENCODING_DEFLATE = 1,        /* the whole file, then cut */
        NATS_ENCODING_DEFLATE_CHUNKS = 2, /* each raw slice on its own, or as is */
} NatsEncoding;

typedef struct NatsManifest {
        uint64_t generation;
        uint64_t bytes; /* on the wire: what the chunks add up to */
        uint64_t chunks;
        uint64_t chunk_bytes; /* deflate-chunks: the raw slice; else the wire chunk */
        uint64_t xxh3;
        char subject[NATS_MAX_SUBJECT];
        uint64_t first_seq;
        uint64_t last_seq;
        NatsEncoding encoding;
        uint64_t raw_bytes; /* the file's size: == bytes for identity */
        uint64_t wire_xxh3; /* of the wire bytes: == xxh3 for identity, 0 for chunks */
} NatsManifest;

/* "tally-chunks-<bucket>" and "tally.<bucket>.chunks" into buf. */
void nats_stream_name(char *buf, size_t n, const char *bucket);
void nats_chunk_subject_prefix(char *buf, size_t n, const char *bucket);

/* Formats m into buf (NATS_MANIFEST_MAX_BYTES); returns the length. */
size_t nats_manifest_format(const NatsManifest *m, char *buf, size_t n);
/* Parses and checks an untrusted manifest for bucket. 0, or -EINVAL with a reason. */
int nats_manifest_parse(const void *data, size_t len, const char *bucket, NatsManifest *ret,
                        char *reason, size_t reason_size);

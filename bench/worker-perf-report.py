#!/usr/bin/env python3
"""Classifies `perf script -F tid,ip,sym,dso --inline` samples (dwarf call graphs) of a
tally-worker run into the parts of its hot path and prints a table of percentages of all
samples. Each sample goes to the first frame, leaf to root, that a rule names; helpers
(memcpy, malloc, the bump allocator) take the category of their caller. Called by
bench/worker-perf; standard library only.

usage: worker-perf-report.py SCRIPT.txt [SCRIPT.txt...]"""
import collections
import re
import sys

# (category, frame names): inlined frames appear under their own names
RULES = [
    ("tokenizing (csv_next)", {"csv_next", "fast_record", "skip_bad_record"}),
    ("number parsing (num, int)", {"parse_num_field", "parse_int_field"}),
    ("time parsing", {"parse_time_usec"}),
    ("field loop (scan_records: field to value)", {"scan_records"}),
    ("key encode + hash + group lookup", {"encode_key", "key_encode", "group_key_hash",
                                          "group_table_get", "grow_slots", "XXH3_64bits",
                                          "view_add_rows", "row_selected", "predicate_matches",
                                          "fast_key_pack", "fast_key_pack_slow",
                                          "fast_key_hash", "fast_index_find", "fast_index_add",
                                          "encode_for_later", "prefetch_state"}),
    ("accumulate (sum/min/max, value lists, distinct)", {
        "prepare_inputs", "update", "summary_add", "vlist_push", "vlist_push_slow", "dedup",
        "sort_unique_u64", "quick_sort_u64",
        "sketch_add", "hll_add", "intern_get", "defer", "shard_add_rows"}),
    ("merge (shards)", {"shard_merge", "merge_state", "summary_merge", "remap_strings",
                        "shard_apply_deferred", "apply_deferred_part"}),
    ("finalize: p95 select + distinct sort", {"shard_group_values", "quantile_of",
                                              "accum_values", "unique_u64"}),
    # the served bodies (snapshot version 2): JSON and CSV text of every view, gzipped
    ("render served bodies: numbers to text", {"format_double_shortest", "doc_num",
                                               "format_double_exact", "csv_value"}),
    ("render served bodies: gzip", {"gzip_buf", "libdeflate_gzip_compress",
                                    "libdeflate_deflate_compress"}),
    ("render served bodies: the rest", {"prerender_transform", "render_view_format",
                                        "served_new", "render_csv_view"}),
    ("view output (sort groups, msgpack, write)", {"cmp_group", "cmp_keys", "put_key",
                                                   "write_view", "snapshot_writer_finish",
                                                   "view_out_write", "snapshot_writer_publish"}),
    ("startup, config, file open", {"_dl_start", "config_load", "input_open", "list_files",
                                    "plan_tasks"}),
]
FRAME = re.compile(r"^\s*[0-9a-f]+ (.+?)(?:\+0x[0-9a-f]+)? \((.*)\)\s*$")


def classify(frames):
    """frames: leaf first, (symbol, dso)"""
    if frames and frames[0][1] == "[kernel.kallsyms]":
        names = {f[0] for f in frames}
        if names & {"exc_page_fault", "asm_exc_page_fault"}:
            return "kernel: page faults"
        if names & {"ksys_read", "vfs_read", "__x64_sys_read", "filemap_read"}:
            return "kernel: read"
        if names & {"__x64_sys_munmap", "__vm_munmap", "do_exit", "exit_mmap"}:
            return "kernel: unmap and exit"
        if names & {"__x64_sys_fsync", "__x64_sys_fdatasync", "__x64_sys_write", "ksys_write"}:
            return "kernel: write + fsync"
        return "kernel: other"
    names = {re.sub(r" \(inlined\)$", "", f[0]) for f in frames}
    # work done for one phase through shared helpers (dedup sorts both while adding and
    # at the end) takes the phase of its caller
    if names & {"shard_group_values", "accum_values"}:
        return "finalize: p95 select + distinct sort"
    if names & {"shard_merge", "shard_apply_deferred"}:
        return "merge (shards)"
    for sym, _ in frames:
        base = sym.replace(" (inlined)", "")
        base = re.sub(r"\.(part|isra|constprop|cold)\.\d+$", "", base)
        for cat, names in RULES:
            if base in names or (base.startswith("XXH") and "XXH3_64bits" in names):
                return cat
    return "other: " + (frames[0][0] if frames else "?")


def samples(path):
    frames = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if frames:
                    yield frames
                frames = []
                continue
            m = FRAME.match(line)
            if m:
                frames.append((m.group(1), m.group(2)))
        if frames:
            yield frames


def main():
    count = collections.Counter()
    total = 0
    for path in sys.argv[1:]:
        for fr in samples(path):
            count[classify(fr)] += 1
            total += 1
    if not total:
        sys.exit("no samples")
    other = sum(n for c, n in count.items() if c.startswith("other: "))
    print(f"| part of the run | share of CPU samples |")
    print(f"|---|---|")
    order = [c for c, _ in RULES] + ["kernel: page faults", "kernel: read", "kernel: write + fsync",
                                     "kernel: unmap and exit", "kernel: other"]
    for c in order:
        if count[c]:
            print(f"| {c} | {100 * count[c] / total:.1f}% |")
    print(f"| other (user space, unclassified) | {100 * other / total:.1f}% |")
    print(f"\n{total} samples; largest unclassified:",
          ", ".join(f"{c[7:]} {100 * n / total:.1f}%" for c, n in count.most_common()
                    if c.startswith("other: "))[:600] or "none")


if __name__ == "__main__":
    main()

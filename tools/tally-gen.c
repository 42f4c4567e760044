/* tally-gen: deterministic synthetic event CSVs for tests, benchmarks and the demo.
 *
 * Same seed and options, same bytes, on every machine: rows come from a SplitMix64
 * stream, numbers are printed with fixed precision, and time runs back from a fixed end. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>

#include "timeparse.h"
#include "util.h"

typedef struct Options {
        uint64_t rows;
        uint64_t seed;
        double bad_rate;
        unsigned regions;
        unsigned products;
        uint64_t users;
        int64_t end_usec;
        uint64_t span_usec;
        bool crlf;
        bool header;
} Options;

static uint64_t splitmix64(uint64_t *state)
{
        uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

static double uniform(uint64_t *st)
{
        return (double)(splitmix64(st) >> 11) * 0x1.0p-53;
}

static const char *const region_names[] = {
    "eu-west",    "eu-north", "eu-central", "us-east", "us-west",  "us-central",
    "ap-south",   "ap-east",  "ap-north",   "sa-east", "af-south", "me-central",
    "ca-central", "au-east",  "in-west",    "jp-east",
};

static void help(void)
{
        printf("Usage: tally-gen [OPTIONS]\n"
               "Writes a synthetic event CSV to stdout:\n"
               "  ts,region,product,user_id,amount,latency_ms,status\n\n"
               "  --rows N          rows to write (default 1000)\n"
               "  --seed N          random seed (default 1)\n"
               "  --bad-rate R      fraction of malformed rows, 0..1 (default 0)\n"
               "  --regions N       distinct regions, 1..16 (default 12)\n"
               "  --products N      distinct products (default 2000)\n"
               "  --users N         distinct user ids (default 100000)\n"
               "  --end TIME        newest timestamp, RFC 3339 (default 2026-01-02T00:00:00Z)\n"
               "  --span DURATION   time range covered, e.g. 48h (default 48h)\n"
               "  --crlf            CRLF line endings\n"
               "  --no-header       omit the header row\n"
               "  -h, --help        this help\n");
}

/* Malformed rows of the kinds the worker must skip and count. */
static void write_bad_row(FILE *out, uint64_t *st, const char *eol)
{
        switch (splitmix64(st) % 4) {
        case 0: fprintf(out, "2026-01-01T00:00:00Z,eu-west,p0001%s", eol); break;
        case 1: fprintf(out, "2026-01-01T00:00:00Z,eu-west,p0001,17,12.x5,3.0,ok%s", eol); break;
        case 2: fprintf(out, "yesterday,eu-west,p0001,17,12.50,3.0,ok%s", eol); break;
        default: fprintf(out, "2026-01-01T00:00:00Z,\"eu-we\"st,p0001,17,1.0,3.0,ok%s", eol);
        }
}

static int run(const Options *o)
{
        static char buf[1 << 20];
        setvbuf(stdout, buf, _IOFBF, sizeof(buf));
        const char *eol = o->crlf ? "\r\n" : "\n";
        uint64_t st = o->seed;
        if (o->header)
                printf("ts,region,product,user_id,amount,latency_ms,status%s", eol);
        for (uint64_t i = 0; i < o->rows; i++) {
                if (o->bad_rate > 0 && uniform(&st) < o->bad_rate) {
                        write_bad_row(stdout, &st, eol);
                        continue;
                }
                int64_t ts = o->end_usec - (int64_t)(uniform(&st) * (double)o->span_usec);
                ts -= ts % 1000; /* millisecond precision, as event logs usually have */
                char tsbuf[40];
                format_time_rfc3339(tsbuf, sizeof(tsbuf), ts);
                unsigned region = (unsigned)(splitmix64(&st) % o->regions);
                unsigned product = (unsigned)(splitmix64(&st) % o->products);
                uint64_t user = 1 + splitmix64(&st) % o->users;
                unsigned cents = (unsigned)(1 + splitmix64(&st) % 100000);
                /* log-normal-ish latencies with a long tail, one decimal */
                double lat = exp(3.0 + 0.8 * (uniform(&st) + uniform(&st) + uniform(&st) - 1.5));
                double s = uniform(&st);
                const char *status = s < 0.90 ? "ok" : s < 0.97 ? "error" : "timeout";
                printf("%s,%s,p%05u,%" PRIu64 ",%u.%02u,%.1f,%s%s", tsbuf, region_names[region],
                       product, user, cents / 100, cents % 100, lat, status, eol);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "tally-gen: write error: %s\n", strerror(errno));
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        enum {
                OPT_ROWS = 256,
                OPT_SEED,
                OPT_BAD,
                OPT_REGIONS,
                OPT_PRODUCTS,
                OPT_USERS,
                OPT_END,
                OPT_SPAN,
                OPT_CRLF,
                OPT_NO_HEADER
        };
        static const struct option longopts[] = {
            {"rows", required_argument, NULL, OPT_ROWS},
            {"seed", required_argument, NULL, OPT_SEED},
            {"bad-rate", required_argument, NULL, OPT_BAD},
            {"regions", required_argument, NULL, OPT_REGIONS},
            {"products", required_argument, NULL, OPT_PRODUCTS},
            {"users", required_argument, NULL, OPT_USERS},
            {"end", required_argument, NULL, OPT_END},
            {"span", required_argument, NULL, OPT_SPAN},
            {"crlf", no_argument, NULL, OPT_CRLF},
            {"no-header", no_argument, NULL, OPT_NO_HEADER},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        Options o = {.rows = 1000,
                     .seed = 1,
                     .regions = 12,
                     .products = 2000,
                     .users = 100000,
                     .span_usec = 48 * 3600 * USEC_PER_SEC,
                     .header = true};
        parse_time_usec("2026-01-02T00:00:00Z", 20, &o.end_usec);
        uint64_t v;
        int c;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                int r = 0;
                switch (c) {
                case OPT_ROWS: r = parse_uint(optarg, 0, UINT64_MAX, &o.rows); break;
                case OPT_SEED: r = parse_uint(optarg, 0, UINT64_MAX, &o.seed); break;
                case OPT_BAD:
                        r = parse_double(optarg, &o.bad_rate);
                        if (r == 0 && (o.bad_rate < 0 || o.bad_rate > 1))
                                r = -ERANGE;
                        break;
                case OPT_REGIONS:
                        r = parse_uint(optarg, 1, ELEMENTSOF(region_names), &v);
                        o.regions = (unsigned)v;
                        break;
                case OPT_PRODUCTS:
                        r = parse_uint(optarg, 1, 99999, &v);
                        o.products = (unsigned)v;
                        break;
                case OPT_USERS: r = parse_uint(optarg, 1, UINT64_MAX / 2, &o.users); break;
                case OPT_END: r = parse_time_usec(optarg, strlen(optarg), &o.end_usec); break;
                case OPT_SPAN: r = parse_duration_usec(optarg, &o.span_usec); break;
                case OPT_CRLF: o.crlf = true; break;
                case OPT_NO_HEADER: o.header = false; break;
                case 'h': help(); return 0;
                default: return 2;
                }
                if (r < 0) {
                        fprintf(stderr, "tally-gen: invalid value '%s' for --%s\n", optarg,
                                longopts[c - OPT_ROWS].name);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "tally-gen: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        return run(&o);
}

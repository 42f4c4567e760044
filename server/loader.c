#include "loader.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "coop.h"
#include "log.h"
#include "pinning.h"
#include "snapshot_dir.h"
#include "snapshot_read.h"

#define REJECTED_MEMORY 32

typedef struct Rejected {
        uint64_t generation;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
} Rejected;

struct Loader {
        char *dir;
        uint64_t max_bytes;
        uint64_t serving; /* generation of the newest snapshot handed out */
        Rejected rejected[REJECTED_MEMORY];
        size_t n_rejected, next_rejected;
        LoaderStats stats;
        Pinning pinning;

        pthread_t thread;
        bool running;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool scan_requested;
        bool stop;
        Served *mailbox;
        Served *retired; /* last references dropped elsewhere, unmapped here */
        void (*ready)(void *userdata);
        void *userdata;
};

int loader_new(const char *dir, uint64_t max_bytes, Loader **ret)
{
        _cleanup_(loader_freep) Loader *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->wake, NULL);
        l->dir = strdup(dir);
        if (!l->dir)
                return -ENOMEM;
        l->max_bytes = MIN(max_bytes, SNAPSHOT_MAX_FILE_BYTES);
        *ret = TAKE_PTR(l);
        return 0;
}

Loader *loader_free(Loader *l)
{
        if (!l)
                return NULL;
        if (l->running) {
                pthread_mutex_lock(&l->lock);
                l->stop = true;
                pthread_cond_signal(&l->wake);
                pthread_mutex_unlock(&l->lock);
                pthread_join(l->thread, NULL);
        }
        served_unref(l->mailbox);
        while (l->retired) {
                Served *next = l->retired->next_retired;
                served_release(l->retired);
                l->retired = next;
        }
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->wake);
        free(l->dir);
        free(l);
        return NULL;
}

static bool same_file(const Rejected *r, uint64_t gen, const struct stat *st)
{
        return r->generation == gen && r->dev == st->st_dev && r->ino == st->st_ino &&
               r->size == st->st_size && r->mtime.tv_sec == st->st_mtim.tv_sec &&
               r->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static bool known_bad(const Loader *l, uint64_t gen, const struct stat *st)
{
        for (size_t i = 0; i < l->n_rejected; i++)
                if (same_file(&l->rejected[i], gen, st))
                        return true;
        return false;
}

static void remember_bad(Loader *l, uint64_t gen, const struct stat *st)
{
        l->rejected[l->next_rejected] =
            (Rejected){gen, st->st_dev, st->st_ino, st->st_size, st->st_mtim};
        l->next_rejected = (l->next_rejected + 1) % REJECTED_MEMORY;
        l->n_rejected = MIN(l->n_rejected + 1, (size_t)REJECTED_MEMORY);
}

static void reject(Loader *l, uint64_t gen, const char *name, const struct stat *st,
                   const char *reason)
{
        atomic_fetch_add(&l->stats.rejected, 1);
        log_struct(LOG_WARNING, 0, MSGID_SNAPSHOT_REJECTED,
                   LOG_FIELDS(log_field("TALLY_GENERATION=%" PRIu64, gen),
                              log_field("TALLY_FILE=%s", name),
                              log_field("TALLY_REASON=%s", reason)),
                   "Rejected snapshot %s/%s: %s; keeping the current one", l->dir, name, reason);
        if (st)
                remember_bad(l, gen, st);
}

/* Version 2 files are served from their image as read (prerender.h); a v1 file is
 * rendered here as before. The bodies' arrays are little-endian: elsewhere v2 files are
 * decoded whole and rendered like v1. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define READ_FLAGS SNAPSHOT_READ_BODIES_ONLY
#else
#define READ_FLAGS 0u
#endif

/* Priorities. Reading and validating a snapshot, and adopting a v2 file's bodies, costs
 * milliseconds of CPU: the loader runs that LOADER_NICE levels below the process, a small
 * share of a core the event loops saturate, so a new snapshot is served within a second
 * under any load while a request waits at most one short slice behind it. Rendering a v1
 * file costs hundreds of milliseconds: that runs in a helper thread at SCHED_IDLE (nice 19
 * where the policy is refused), which any waking loop preempts at once, so it waits for
 * idle CPU instead of delaying requests. (An unprivileged thread cannot raise its priority
 * again, hence a thread of its own rather than a switch.) */
#define LOADER_NICE 10
/* ... and gives the core back after every LOADER_SLICE_USEC of CPU time (coop.h): at nice
 * 10 alone the kernel still let it run 2-7 ms at a stretch (to the next 4 ms tick, or
 * through a whole 12 MB read), and the c50 p99 during reloads was 2.3-2.65x the steady
 * one in bench/freshness; yielding, 1.74-1.81x (the same runs, interleaved), the rest
 * being the freshness poller on the client's core. */
#define LOADER_SLICE_USEC 100
#define LOADER_IDLE_NICE  19

/* Nice relative to the process's (a Nice= of the unit moves both). */
static void lower_nice_by(int n)
{
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, (id_t)gettid());
        if (cur == -1 && errno != 0)
                cur = 0;
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), MIN(cur + n, LOADER_IDLE_NICE));
}

static void lower_to_idle(void)
{
        struct sched_param param = {.sched_priority = 0};
        if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0)
                lower_nice_by(LOADER_IDLE_NICE);
}

typedef struct RenderJob {
        const Snapshot *s;
        Served *sv;
        int r;
} RenderJob;

static void *render_idle_thread(void *arg)
{
        RenderJob *job = arg;
        lower_to_idle();
        job->r = served_new(job->s, &job->sv);
        return NULL;
}

/* served_new() at idle priority, waited for. */
static int render_idle(const Snapshot *s, Served **ret)
{
        RenderJob job = {.s = s};
        pthread_t t;
        int r = -pthread_create(&t, NULL, render_idle_thread, &job);
        if (r < 0)
                return served_new(s, ret); /* no thread: render here, at our priority */
        /* The render does not yield: the loops must not hand it the core. */
        coop_busy_end();
        pthread_join(t, NULL);
        coop_busy_begin();
        if (job.r < 0)
                return job.r;
        *ret = job.sv;
        return 0;
}

typedef struct Image {
        void *p;
        size_t size;
} Image;

static void image_done(Image *im)
{
        if (im->p)
                coop_munmap(im->p, im->size);
}

static int prepare(const Snapshot *s, bool idle_render, Image *im, Served **ret)
{
        if (s->bodies && READ_FLAGS) {
                int r = served_new_prerendered(s, im->p, im->size, ret);
                if (r >= 0)
                        *im = (Image){NULL, 0}; /* the Served owns it now */
                return r;
        }
        return idle_render ? render_idle(s, ret) : served_new(s, ret);
}

/* Tries one file; 1 with *ret on success, 0 if rejected or gone. */
static int try_load(Loader *l, int dirfd, uint64_t gen, Served **ret)
{
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), gen);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0; /* pruned between listing and now */
        if (known_bad(l, gen, &st))
                return 0;
        uint64_t t0 = now_monotonic_usec();
        char reason[256] = "";
        _cleanup_(image_done) Image im = {NULL, 0};
        _cleanup_(snapshot_freep) Snapshot *s = NULL; /* freed before im: it points into it */
        int r = snapshot_read_file_image(dirfd, name, l->max_bytes, READ_FLAGS, &s, &im.p, &im.size,
                                         reason, sizeof(reason));
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (!reason[0])
                        snprintf(reason, sizeof(reason), "%s", strerror(-r));
                reject(l, gen, name, &st, reason);
                return 0;
        }
        if (s->generation != gen) {
                snprintf(reason, sizeof(reason),
                         "file name says generation %" PRIu64 " but the file says %" PRIu64, gen,
                         s->generation);
                reject(l, gen, name, &st, reason);
                return 0;
        }
        Served *sv;
        r = prepare(s, l->running, &im, &sv);
        if (r < 0) {
                snprintf(reason, sizeof(reason), "cannot prepare for serving: %s", strerror(-r));
                /* out of memory may pass: do not remember the file as bad */
                reject(l, gen, name, r == -ENOMEM ? NULL : &st, reason);
                return 0;
        }
        sv->prepare_usec = now_monotonic_usec() - t0;
        for (size_t i = 0; i < sv->n_views; i++)
                if (!sv->views[i].slices.sorted)
                        log_warning(
                            "Snapshot %s/%s, view %s: rows are not in key order; its prefix "
                            "and range lookups answer 500",
                            l->dir, name, sv->views[i].name);
        atomic_fetch_add(&l->stats.loaded, 1);
        atomic_store(&l->stats.last_duration_usec, sv->prepare_usec);
        atomic_fetch_add(&l->stats.duration_usec_sum, sv->prepare_usec);
        *ret = sv;
        return 1;
}

static int scan(Loader *l, uint64_t serving, Served **ret)
{
        atomic_fetch_add(&l->stats.scans, 1);
        _cleanup_close_ int dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_debug_errno(errno, "Cannot open snapshot directory %s: %m", l->dir);
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        int r = snapshot_dir_list(dirfd, &gens, &n);
        if (r < 0)
                return log_warning_errno(r, "Cannot list %s: %m", l->dir);
        n = pinning_filter(&l->pinning, dirfd, l->dir, serving, gens, n);
        for (size_t i = 0; i < n; i++) {
                if (gens[i] == serving)
                        return 0; /* the one serving is the newest good one */
                r = try_load(l, dirfd, gens[i], ret);
                if (r != 0)
                        return r;
        }
        return 0;
}

int loader_scan_now(Loader *l, Served **ret)
{
        Served *sv = NULL;
        int r = scan(l, l->serving, &sv);
        if (r > 0) {
                l->serving = sv->generation;
                *ret = sv;
        }
        return r;
}

static void *loader_thread(void *arg)
{
        Loader *l = arg;
        lower_nice_by(LOADER_NICE);
        coop_enable(LOADER_SLICE_USEC);
        pthread_mutex_lock(&l->lock);
        for (;;) {
                while (!l->scan_requested && !l->retired && !l->stop)
                        pthread_cond_wait(&l->wake, &l->lock);
                if (l->stop)
                        break;
                Served *dead = TAKE_PTR(l->retired);
                bool do_scan = l->scan_requested;
                l->scan_requested = false;
                pthread_mutex_unlock(&l->lock);
                /* the loops give way while this runs (coop.h) */
                coop_busy_begin();
                while (dead) {
                        Served *next = dead->next_retired;
                        served_release(dead);
                        dead = next;
                }
                Served *sv = NULL;
                int r = do_scan ? scan(l, l->serving, &sv) : 0;
                coop_busy_end();

                pthread_mutex_lock(&l->lock);
                if (r > 0) {
                        l->serving = sv->generation;
                        Served *old = l->mailbox;
                        l->mailbox = sv;
                        pthread_mutex_unlock(&l->lock);
                        served_unref(old); /* superseded before the loop took it */
                        if (l->ready)
                                l->ready(l->userdata);
                        pthread_mutex_lock(&l->lock);
                }
        }
        pthread_mutex_unlock(&l->lock);
        return NULL;
}

int loader_start(Loader *l, void (*ready)(void *userdata), void *userdata)
{
        l->ready = ready;
        l->userdata = userdata;
        l->running = true; /* before the thread reads it */
        int r = -pthread_create(&l->thread, NULL, loader_thread, l);
        if (r < 0)
                l->running = false;
        return r;
}

void loader_request_scan(Loader *l)
{
        pthread_mutex_lock(&l->lock);
        l->scan_requested = true;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
}

Served *loader_take(Loader *l)
{
        pthread_mutex_lock(&l->lock);
        Served *sv = TAKE_PTR(l->mailbox);
        pthread_mutex_unlock(&l->lock);
        return sv;
}

void loader_retire(Served *sv, void *userdata)
{
        Loader *l = userdata;
        pthread_mutex_lock(&l->lock);
        sv->next_retired = l->retired;
        l->retired = sv;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
}

const LoaderStats *loader_stats(const Loader *l)
{
        return &l->stats;
}

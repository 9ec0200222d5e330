#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int reap(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One byte from fd, or -1 at end of file or on error. */
static int recv_byte(int fd)
{
    unsigned char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? c : -1;
}

/* Four processes increment a plain shared counter under the lock. */
static void count_under_lock(int type)
{
    swco_lock_t *l = swco_lock_new(type, 1);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(swco_lock_get_type(l), type);
    swco_atomic64_t *mem = swco_atomic64_new(0); /* used as plain shared memory */
    pid_t pids[4];
    for (int p = 0; p < 4; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            for (int i = 0; i < 20000; i++) {
                if (swco_lock_lock(l) != 0)
                    _exit(2);
                int64_t v = swco_atomic64_get(mem);
                swco_atomic64_set(mem, v + 1);
                swco_lock_unlock(l);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < 4; p++)
        ck_assert_int_eq(reap(pids[p]), 0);
    ck_assert(swco_atomic64_get(mem) == 80000);
    swco_atomic64_free(mem);
    swco_lock_free(l);
}

START_TEST(lock_mutex_counts) { count_under_lock(SWCO_LOCK_MUTEX); }
END_TEST
START_TEST(lock_rwlock_counts) { count_under_lock(SWCO_LOCK_RWLOCK); }
END_TEST
START_TEST(lock_spin_counts) { count_under_lock(SWCO_LOCK_SPINLOCK); }
END_TEST
START_TEST(lock_sem_counts) { count_under_lock(SWCO_LOCK_SEM); }
END_TEST

START_TEST(lock_bad_input)
{
    ck_assert_ptr_null(swco_lock_new(9, 0));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_int_eq(swco_lock_lock(NULL), -EINVAL);
    ck_assert_int_eq(swco_lock_unlock(NULL), -EINVAL);
    ck_assert_int_eq(swco_lock_get_type(NULL), -EINVAL);
    swco_lock_t *m = swco_lock_new(SWCO_LOCK_MUTEX, 0);
    ck_assert_int_eq(swco_lock_unlock(m), -EPERM);
    ck_assert_int_eq(swco_lock_lock(m), 0);
    ck_assert_int_eq(swco_lock_lock(m), -EDEADLK);
    ck_assert_int_eq(swco_lock_unlock(m), 0);
    swco_lock_free(m);
}
END_TEST

/* trylock and timedlock against a holder in another process. */
static void try_and_timed(int type)
{
    swco_lock_t *l = swco_lock_new(type, 1);
    swco_atomic_t *held = swco_atomic_new(0);
    pid_t pid = fork();
    if (pid == 0) {
        /* hold it until the parent has seen it busy (held 2: let go) */
        swco_lock_lock(l);
        swco_atomic_set(held, 1);
        for (double t0 = now_s(); swco_atomic_get(held) != 2 && now_s() - t0 < 60 * slow();)
            usleep(1000);
        swco_lock_unlock(l);
        _exit(0);
    }
    while (!swco_atomic_get(held))
        usleep(1000);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    double t0 = now_s();
    ck_assert_int_eq(swco_lock_timedlock(l, 0.05), -ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.045);
    swco_atomic_set(held, 2);
    ck_assert_int_eq(swco_lock_timedlock(l, 30 * slow()), 0); /* waits for the holder */
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(reap(pid), 0);
    swco_atomic_free(held);
    swco_lock_free(l);
}

START_TEST(lock_try_timed_mutex) { try_and_timed(SWCO_LOCK_MUTEX); }
END_TEST
START_TEST(lock_try_timed_rwlock) { try_and_timed(SWCO_LOCK_RWLOCK); }
END_TEST
START_TEST(lock_try_timed_spin) { try_and_timed(SWCO_LOCK_SPINLOCK); }
END_TEST
START_TEST(lock_try_timed_sem) { try_and_timed(SWCO_LOCK_SEM); }
END_TEST

START_TEST(lock_rwlock_readers_share)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_RWLOCK, 0);
    ck_assert_int_eq(swco_lock_lock_read(l), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int r1 = swco_lock_trylock_read(l);
        if (r1 == 0)
            swco_lock_unlock(l);
        int r2 = swco_lock_trylock(l);
        _exit(r1 == 0 && r2 == -EBUSY ? 0 : 1);
    }
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_timedlock_read(l, 0.1), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    swco_lock_free(l);
}
END_TEST

START_TEST(lock_sem_counts_down)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_SEM, 2);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    swco_lock_free(l);
}
END_TEST

START_TEST(lock_mutex_owner_dies)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_MUTEX, 0);
    swco_atomic_t *held = swco_atomic_new(0);
    pid_t pid = fork();
    if (pid == 0) {
        swco_lock_lock(l);
        swco_atomic_set(held, 1);
        pause();
        _exit(0);
    }
    while (!swco_atomic_get(held))
        usleep(1000);
    kill(pid, SIGKILL);
    ck_assert_int_eq(reap(pid), 128 + SIGKILL);
    ck_assert_int_eq(swco_lock_timedlock(l, 30 * slow()), -EOWNERDEAD);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    /* Recovered: an ordinary lock again. */
    ck_assert_int_eq(swco_lock_lock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    swco_atomic_free(held);
    swco_lock_free(l);
}
END_TEST

/* Two coroutines of one thread share the lock; the waiter yields, so the
 * holder's coroutine (sleeping while it holds it) keeps running. */
static swco_lock_t *co_l;
static void co_holder(void *arg)
{
    ck_assert_int_eq(swco_lock_co_lock(co_l, 1), 0);
    out("holder locked\n");
    swco_sleep(0.05);
    out("holder unlocks\n");
    swco_lock_unlock(co_l);
}
static void co_waiter(void *arg)
{
    int rc = swco_lock_co_lock(co_l, 0.01);
    out("waiter short: %s\n", swco_err_name(rc));
    rc = swco_lock_co_lock(co_l, 30 * slow());
    out("waiter got it: %d\n", rc);
    swco_lock_unlock(co_l);
}
static void co_main(void *arg)
{
    swco_coroutine_create(co_holder, NULL);
    swco_coroutine_create(co_waiter, NULL);
}

START_TEST(lock_coroutine_yields)
{
    co_l = swco_lock_new(SWCO_LOCK_MUTEX, 0);
    out_reset();
    ck_assert_int_eq(swco_run(co_main, NULL), 0);
    ck_assert_str_eq(out_buf, "holder locked\nwaiter short: ETIMEDOUT\nholder unlocks\n"
                              "waiter got it: 0\n");
    swco_lock_free(co_l);
}
END_TEST


/* Coroutines of one thread queue in arrival order: the unlock hands the
 * lock to the oldest waiter, a waiter that times out or is cancelled
 * leaves the line without disturbing it. */
static long queue_cids[6];
static void queue_worker(void *arg)
{
    long k = (long)arg;
    int rc = swco_lock_co_lock(co_l, k == 2 ? 0.01 : 5);
    if (rc != 0) {
        out("%ld:%s ", k, swco_err_name(rc));
        return;
    }
    out("%ld+ ", k);
    swco_sleep(k == 0 ? 0.05 : 0.002);
    out("%ld- ", k);
    swco_lock_unlock(co_l);
}
static void queue_main(void *arg)
{
    for (long k = 0; k < 6; k++)
        queue_cids[k] = swco_coroutine_create(queue_worker, (void *)k);
    swco_sleep(0.02);
    ck_assert_int_eq(swco_coroutine_cancel(queue_cids[4]), 0);
}

START_TEST(lock_coroutines_in_order)
{
    static const int kinds[] = {SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK,
                                SWCO_LOCK_SEM};
    for (int i = 0; i < 4; i++) {
        co_l = swco_lock_new(kinds[i], 1);
        out_reset();
        ck_assert_int_eq(swco_run(queue_main, NULL), 0);
        ck_assert_str_eq(out_buf, "0+ 2:ETIMEDOUT 4:ECANCELED 0- 1+ 1- 3+ 3- 5+ 5- ");
        swco_lock_free(co_l);
    }
}
END_TEST

/* Readers queued behind a writer all get in once the writer leaves; they
 * hold it (together) until the main coroutine has tried it. */
static int readers_in, tried;
static void reader(void *arg)
{
    ck_assert_int_eq(swco_lock_co_lock_read(co_l, 30 * slow()), 0);
    out("r");
    readers_in++;
    while (!tried)
        swco_sleep(0.001);
    swco_lock_unlock(co_l);
}
static void writer(void *arg)
{
    ck_assert_int_eq(swco_lock_co_lock(co_l, 30 * slow()), 0);
    out("W");
    swco_sleep(0.02);
    out("w");
    swco_lock_unlock(co_l);
}
static void readers_main(void *arg)
{
    swco_coroutine_create(writer, NULL);
    for (int i = 0; i < 3; i++)
        swco_coroutine_create(reader, NULL);
    /* once the writer left, the three readers hold it together */
    readers_in = tried = 0;
    for (double t0 = now_s(); readers_in < 3 && now_s() - t0 < 30 * slow();)
        swco_sleep(0.001);
    out("%d", swco_lock_trylock(co_l));
    tried = 1;
}

START_TEST(lock_coroutine_readers_share)
{
    co_l = swco_lock_new(SWCO_LOCK_RWLOCK, 0);
    out_reset();
    ck_assert_int_eq(swco_run(readers_main, NULL), 0);
    ck_assert_str_eq(out_buf, "Wwrrr-16");
    swco_lock_free(co_l);
}
END_TEST

/* ------------------------------------------------------------------
 * An unlock from a thread or process that does not hold the lock is
 * refused and changes nothing (issue 10, item 9). */

/* A child process that takes the lock (read or write) on a byte from the
 * parent, reports it, and releases it on the next byte. */
typedef struct holder {
    pid_t pid;
    int to[2], from[2];
} holder_t;

static void holder_start(holder_t *h, swco_lock_t *l, int read)
{
    ck_assert_int_eq(pipe(h->to), 0);
    ck_assert_int_eq(pipe(h->from), 0);
    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        char c;
        int rc = read ? swco_lock_lock_read(l) : swco_lock_lock(l);
        c = rc == 0 ? 'L' : 'E';
        if (write(h->from[1], &c, 1) != 1 || rc != 0)
            _exit(2);
        if (recv_byte(h->to[0]) < 0)
            _exit(3);
        rc = swco_lock_unlock(l);
        c = rc == 0 ? 'U' : 'E';
        if (write(h->from[1], &c, 1) != 1)
            _exit(4);
        _exit(rc == 0 ? 0 : 5);
    }
    ck_assert_int_eq(recv_byte(h->from[0]), 'L');
}

static void holder_release(holder_t *h)
{
    char c = 'u';
    ck_assert_int_eq(write(h->to[1], &c, 1), 1);
    ck_assert_int_eq(recv_byte(h->from[0]), 'U');
    ck_assert_int_eq(reap(h->pid), 0);
    close(h->to[0]);
    close(h->to[1]);
    close(h->from[0]);
    close(h->from[1]);
}

/* A thread that tries to unlock a lock it does not hold. */
static void *stranger_unlock(void *arg)
{
    return (void *)(long)swco_lock_unlock(arg);
}

static int unlock_in_thread(swco_lock_t *l)
{
    pthread_t th;
    void *ret;
    ck_assert_int_eq(pthread_create(&th, NULL, stranger_unlock, l), 0);
    ck_assert_int_eq(pthread_join(th, &ret), 0);
    return (int)(long)ret;
}

START_TEST(lock_rwlock_unlock_by_non_holder)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_RWLOCK, 0);
    /* Nobody holds it: the unlock is refused, the lock still works. */
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);

    /* Another process reads: our unlock must not let a writer in. */
    holder_t h;
    holder_start(&h, l, 1);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    ck_assert_int_eq(swco_lock_trylock_read(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    holder_release(&h);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);

    /* Another process writes: our unlock must not free it. */
    holder_start(&h, l, 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock_read(l), -EBUSY);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    holder_release(&h);

    /* We write: another thread cannot release it for us. */
    ck_assert_int_eq(swco_lock_lock(l), 0);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    /* Recursive reads count. */
    ck_assert_int_eq(swco_lock_lock_read(l), 0);
    ck_assert_int_eq(swco_lock_lock_read(l), 0);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    /* Sound at the end: one writer, then free. */
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(swco_lock_trylock_read(l), -EBUSY);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_trylock_read(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    swco_lock_free(l);
}
END_TEST

START_TEST(lock_spin_unlock_by_non_holder)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_SPINLOCK, 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    holder_t h;
    holder_start(&h, l, 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    holder_release(&h);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    /* Locking it again in the holding thread would spin for ever. */
    ck_assert_int_eq(swco_lock_timedlock(l, 5), -EDEADLK);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    swco_lock_free(l);
}
END_TEST

START_TEST(lock_mutex_unlock_by_non_holder)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_MUTEX, 0);
    holder_t h;
    holder_start(&h, l, 0);
    ck_assert_int_eq(swco_lock_unlock(l), -EPERM);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    holder_release(&h);
    ck_assert_int_eq(swco_lock_trylock(l), 0);
    ck_assert_int_eq(unlock_in_thread(l), -EPERM);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    swco_lock_free(l);
}
END_TEST

/* trylock of a mutex this thread holds is "busy", as documented. */
START_TEST(lock_mutex_trylock_own_is_busy)
{
    swco_lock_t *l = swco_lock_new(SWCO_LOCK_MUTEX, 0);
    ck_assert_int_eq(swco_lock_lock(l), 0);
    ck_assert_int_eq(swco_lock_trylock(l), -EBUSY);
    ck_assert_int_eq(swco_lock_trylock_read(l), -EBUSY);
    ck_assert_int_eq(swco_lock_lock(l), -EDEADLK);
    ck_assert_int_eq(swco_lock_unlock(l), 0);
    swco_lock_free(l);
}
END_TEST

/* ------------------------------------------------------------------
 * A huge timeout is a long wait, not -EINVAL or an instant -ETIMEDOUT. */
typedef struct huge_wait {
    swco_lock_t *l;
    int read;
    int ready[2], done[2];
} huge_wait_t;

static void *huge_waiter(void *arg)
{
    huge_wait_t *w = arg;
    char c = 's';
    if (write(w->ready[1], &c, 1) != 1)
        return (void *)-1L;
    long rc = w->read ? swco_lock_timedlock_read(w->l, 1e12) : swco_lock_timedlock(w->l, 1e12);
    if (rc == 0)
        swco_lock_unlock(w->l);
    c = 'd';
    if (write(w->done[1], &c, 1) != 1)
        return (void *)-1L;
    return (void *)rc;
}

static void huge_timeout(int type, int read, double timeout)
{
    huge_wait_t w = {.l = swco_lock_new(type, 1), .read = read};
    ck_assert_int_eq(pipe(w.ready), 0);
    ck_assert_int_eq(pipe(w.done), 0);
    ck_assert_int_eq(swco_lock_lock(w.l), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, huge_waiter, &w), 0);
    ck_assert_int_eq(recv_byte(w.ready[0]), 's');
    /* It waits while we hold the lock (the old code answered at once). */
    struct pollfd p = {.fd = w.done[0], .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, (int)(timeout * 1000)), 0);
    ck_assert_int_eq(swco_lock_unlock(w.l), 0);
    void *ret;
    ck_assert_int_eq(pthread_join(th, &ret), 0);
    ck_assert_int_eq((int)(long)ret, 0);
    for (int i = 0; i < 2; i++) {
        close(w.ready[i]);
        close(w.done[i]);
    }
    swco_lock_free(w.l);
}

START_TEST(lock_huge_timeout)
{
    static const int kinds[] = {SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK,
                                SWCO_LOCK_SEM};
    for (int i = 0; i < 4; i++) {
        huge_timeout(kinds[i], 0, 0.1);
        huge_timeout(kinds[i], 1, 0.02);
    }
}
END_TEST

/* The coroutine-aware lock: a huge timeout waits too, and a trylock of a
 * mutex held by a sibling coroutine is busy. */
static void huge_co_holder(void *arg)
{
    ck_assert_int_eq(swco_lock_co_lock(co_l, 1e12), 0);
    out("held ");
    swco_sleep(0.01);
    out("%s ", swco_err_name(swco_lock_trylock(co_l)));
    out("releases ");
    ck_assert_int_eq(swco_lock_unlock(co_l), 0);
}
static void huge_co_waiter(void *arg)
{
    int rc = (long)arg ? swco_lock_co_lock_read(co_l, 1e12) : swco_lock_co_lock(co_l, 1e12);
    out("waiter %d ", rc);
    if (rc == 0)
        swco_lock_unlock(co_l);
}
static void huge_co_main(void *arg)
{
    swco_coroutine_create(huge_co_holder, NULL);
    swco_coroutine_create(huge_co_waiter, arg);
}

START_TEST(lock_co_huge_timeout)
{
    static const int kinds[] = {SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK,
                                SWCO_LOCK_SEM};
    for (int i = 0; i < 4; i++) {
        for (long read = 0; read < 2; read++) {
            co_l = swco_lock_new(kinds[i], 1);
            out_reset();
            ck_assert_int_eq(swco_run(huge_co_main, (void *)read), 0);
            ck_assert_str_eq(out_buf, "held EBUSY releases waiter 0 ");
            swco_lock_free(co_l);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("lock");
    tcase_add_test(tc, lock_mutex_counts);
    tcase_add_test(tc, lock_rwlock_counts);
    tcase_add_test(tc, lock_spin_counts);
    tcase_add_test(tc, lock_sem_counts);
    tcase_add_test(tc, lock_bad_input);
    tcase_add_test(tc, lock_try_timed_mutex);
    tcase_add_test(tc, lock_try_timed_rwlock);
    tcase_add_test(tc, lock_try_timed_spin);
    tcase_add_test(tc, lock_try_timed_sem);
    tcase_add_test(tc, lock_rwlock_readers_share);
    tcase_add_test(tc, lock_sem_counts_down);
    tcase_add_test(tc, lock_mutex_owner_dies);
    tcase_add_test(tc, lock_coroutine_yields);
    tcase_add_test(tc, lock_coroutines_in_order);
    tcase_add_test(tc, lock_coroutine_readers_share);
    tcase_add_test(tc, lock_rwlock_unlock_by_non_holder);
    tcase_add_test(tc, lock_spin_unlock_by_non_holder);
    tcase_add_test(tc, lock_mutex_unlock_by_non_holder);
    tcase_add_test(tc, lock_mutex_trylock_own_is_busy);
    tcase_add_test(tc, lock_huge_timeout);
    tcase_add_test(tc, lock_co_huge_timeout);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

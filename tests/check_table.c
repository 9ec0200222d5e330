#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table_int.h" /* the shared layout, to corrupt it as a hostile process */

static int reap(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static swco_table_t *make_table(size_t rows)
{
    swco_table_t *t = swco_table_new(rows);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(swco_table_column(t, "id", SWCO_TABLE_INT, 0), 0);
    ck_assert_int_eq(swco_table_column(t, "score", SWCO_TABLE_DOUBLE, 0), 0);
    ck_assert_int_eq(swco_table_column(t, "name", SWCO_TABLE_STRING, 16), 0);
    return t;
}

START_TEST(table_basic)
{
    swco_table_t *t = make_table(1024);
    size_t need = swco_table_memory_size(t);
    ck_assert_uint_gt(need, 1024 * 16);
    ck_assert_int_eq(swco_table_create(t), 0);
    ck_assert_uint_eq(swco_table_memory_size(t), need);
    ck_assert_int_eq(swco_table_count(t), 0);
    ck_assert_int_eq(swco_table_set_int(t, "alice", "id", 7), 0);
    ck_assert_int_eq(swco_table_set_double(t, "alice", "score", 2.5), 0);
    ck_assert_int_eq(swco_table_set_string(t, "alice", "name", "Alice", 5), 0);
    ck_assert_int_eq(swco_table_count(t), 1);
    int64_t i;
    double d;
    char buf[32];
    ck_assert_int_eq(swco_table_get_int(t, "alice", "id", &i), 0);
    ck_assert(i == 7);
    ck_assert_int_eq(swco_table_get_double(t, "alice", "score", &d), 0);
    ck_assert(d == 2.5);
    ck_assert_int_eq(swco_table_get_string(t, "alice", "name", buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "Alice");
    ck_assert_int_eq(swco_table_get_string(t, "alice", "name", buf, 3), -ENOSPC);
    /* A new row starts at zero. */
    ck_assert_int_eq(swco_table_incr(t, "bob", "id", 5, &i), 0);
    ck_assert(i == 5);
    ck_assert_int_eq(swco_table_decr(t, "bob", "id", 8, &i), 0);
    ck_assert(i == -3);
    ck_assert_int_eq(swco_table_incr_double(t, "bob", "score", 0.25, &d), 0);
    ck_assert(d == 0.25);
    ck_assert_int_eq(swco_table_get_string(t, "bob", "name", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(swco_table_exists(t, "bob"), 1);
    ck_assert_int_eq(swco_table_count(t), 2);
    ck_assert_int_eq(swco_table_del(t, "bob"), 0);
    ck_assert_int_eq(swco_table_exists(t, "bob"), 0);
    ck_assert_int_eq(swco_table_del(t, "bob"), -ENOENT);
    ck_assert_int_eq(swco_table_get_int(t, "bob", "id", &i), -ENOENT);
    ck_assert_int_eq(swco_table_count(t), 1);
    ck_assert_int_eq(swco_table_column_count(t), 3);
    ck_assert_str_eq(swco_table_column_name(t, 2), "name");
    ck_assert_ptr_null(swco_table_column_name(t, 3));
    ck_assert_int_eq(swco_table_column_type(t, "score"), SWCO_TABLE_DOUBLE);
    ck_assert_int_eq(swco_table_column_type(t, "nope"), SWCO_ENOCOLUMN);
    swco_table_free(t);
}
END_TEST

START_TEST(table_bad_input)
{
    swco_table_t *t = make_table(4);
    ck_assert_ptr_null(swco_table_new(0));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_int_eq(swco_table_column(t, "id", SWCO_TABLE_INT, 0), -EEXIST);
    ck_assert_int_eq(swco_table_column(t, "x", 99, 0), -EINVAL);
    ck_assert_int_eq(swco_table_column(t, "s", SWCO_TABLE_STRING, 0), -EINVAL);
    ck_assert_int_eq(swco_table_column(t, "a_name_that_is_far_too_long_for_it", SWCO_TABLE_INT, 0),
                     -ENAMETOOLONG);
    ck_assert_int_eq(swco_table_set_int(t, "k", "id", 1), -EINVAL); /* not created yet */
    ck_assert_int_eq(swco_table_create(t), 0);
    ck_assert_int_eq(swco_table_create(t), -EINVAL);
    ck_assert_int_eq(swco_table_column(t, "late", SWCO_TABLE_INT, 0), -EINVAL);

    for (int k = 0; k < 4; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        ck_assert_int_eq(swco_table_set_int(t, key, "id", k), 0);
    }
    /* Full: distinct code, nothing changes. */
    ck_assert_int_eq(swco_table_set_int(t, "k4", "id", 4), SWCO_EFULL);
    ck_assert_int_eq(swco_table_incr(t, "k4", "id", 1, NULL), SWCO_EFULL);
    ck_assert_int_eq(swco_table_exists(t, "k4"), 0);
    ck_assert_int_eq(swco_table_count(t), 4);
    /* Existing rows can still be written. */
    ck_assert_int_eq(swco_table_set_int(t, "k3", "id", 33), 0);

    char longkey[65];
    memset(longkey, 'x', 64);
    longkey[64] = 0;
    ck_assert_int_eq(swco_table_set_int(t, longkey, "id", 1), SWCO_EKEYTOOLONG);
    ck_assert_int_eq(swco_table_exists(t, longkey), SWCO_EKEYTOOLONG);
    ck_assert_int_eq(swco_table_del(t, longkey), SWCO_EKEYTOOLONG);
    ck_assert_int_eq(swco_table_set_int(t, "", "id", 1), -EINVAL);

    ck_assert_int_eq(swco_table_set_int(t, "k0", "nope", 1), SWCO_ENOCOLUMN);
    ck_assert_int_eq(swco_table_set_int(t, "k0", "score", 1), -EINVAL);
    ck_assert_int_eq(swco_table_set_string(t, "k0", "name", "short", 5), 0);
    ck_assert_int_eq(swco_table_set_string(t, "k0", "name", "0123456789abcdefX", 17),
                     SWCO_EVALTOOLONG);
    ck_assert_int_eq(swco_table_set_string(t, "k0", "name", "0123456789abcdef", 16), 0);
    ck_assert_int_eq(swco_table_set_string(t, "k1", "name", "0123456789abcdefX", 17),
                     SWCO_EVALTOOLONG);
    char buf[32];
    ck_assert_int_eq(swco_table_get_string(t, "k1", "name", buf, sizeof buf), 0);
    ck_assert_int_eq(swco_table_get_string(t, "k0", "name", buf, sizeof buf), 16);
    ck_assert_str_eq(buf, "0123456789abcdef");
    int64_t v;
    ck_assert_int_eq(swco_table_get_int(t, "k0", "nope", &v), SWCO_ENOCOLUMN);
    ck_assert_int_eq(swco_last_error(), SWCO_ENOCOLUMN);
    ck_assert_int_eq(swco_table_count(t), 4);
    ck_assert_int_eq(swco_table_get_int(t, "k3", "id", &v), 0);
    ck_assert(v == 33);
    swco_table_free(t);
}
END_TEST

START_TEST(table_rows)
{
    swco_table_t *t = make_table(64);
    ck_assert_int_eq(swco_table_create(t), 0);
    swco_table_row_t *row = swco_table_row_new(t);
    ck_assert_int_eq(swco_table_set_row(t, "r", row), -EINVAL); /* nothing set */
    ck_assert_int_eq(swco_table_row_set_int(row, "id", 11), 0);
    ck_assert_int_eq(swco_table_row_set_double(row, "score", 1.5), 0);
    ck_assert_int_eq(swco_table_row_set_string(row, "name", "row", 3), 0);
    ck_assert_int_eq(swco_table_row_set_int(row, "bad", 1), SWCO_ENOCOLUMN);
    ck_assert_int_eq(swco_table_row_set_string(row, "name", "01234567890123456", 17),
                     SWCO_EVALTOOLONG);
    ck_assert_int_eq(swco_table_set_row(t, "r", row), 0);
    /* Only some columns. */
    swco_table_row_clear(row);
    ck_assert_int_eq(swco_table_row_set_double(row, "score", 9.0), 0);
    ck_assert_int_eq(swco_table_set_row(t, "r", row), 0);
    swco_table_row_t *got = swco_table_row_new(t);
    ck_assert_int_eq(swco_table_get_row(t, "missing", got), -ENOENT);
    ck_assert_int_eq(swco_table_get_row(t, "r", got), 0);
    int64_t i;
    double d;
    char buf[8];
    ck_assert_int_eq(swco_table_row_get_int(got, "id", &i), 0);
    ck_assert(i == 11);
    ck_assert_int_eq(swco_table_row_get_double(got, "score", &d), 0);
    ck_assert(d == 9.0);
    ck_assert_int_eq(swco_table_row_get_string(got, "name", buf, sizeof buf), 3);
    ck_assert_str_eq(buf, "row");
    ck_assert_int_eq(swco_table_row_get_string(got, "name", buf, 2), -ENOSPC);
    ck_assert_int_eq(swco_table_row_get_int(got, "score", &i), -EINVAL);
    swco_table_row_free(row);
    swco_table_row_free(got);
    swco_table_free(t);
}
END_TEST

static int bump(swco_table_row_t *row, void *arg)
{
    int64_t v;
    swco_table_row_get_int(row, "id", &v);
    swco_table_row_set_int(row, "id", v + 1);
    swco_table_row_set_string(row, "name", "bumped", 6);
    return *(int *)arg;
}

START_TEST(table_update)
{
    swco_table_t *t = make_table(64);
    swco_table_create(t);
    int ok = 0, abort_code = -ECANCELED;
    ck_assert_int_eq(swco_table_update(t, "u", bump, &ok), 0);
    ck_assert_int_eq(swco_table_update(t, "u", bump, &ok), 0);
    ck_assert_int_eq(swco_table_update(t, "u", bump, &abort_code), -ECANCELED);
    int64_t v;
    ck_assert_int_eq(swco_table_get_int(t, "u", "id", &v), 0);
    ck_assert(v == 2);
    swco_table_free(t);
}
END_TEST

START_TEST(table_iterate_while_deleting)
{
    enum { N = 2000 };
    swco_table_t *t = make_table(N);
    swco_table_create(t);
    char key[32];
    for (int k = 0; k < N; k++) {
        snprintf(key, sizeof key, "key-%d", k);
        ck_assert_int_eq(swco_table_set_int(t, key, "id", k), 0);
    }
    swco_table_stats_t st = {.size = sizeof st};
    ck_assert_int_eq(swco_table_stats(t, &st), 0);
    ck_assert_uint_eq(st.rows_used, N);
    ck_assert_uint_gt(st.conflict_used, 0);
    ck_assert_uint_ge(st.longest_chain, 2);
    ck_assert_uint_eq(st.capacity, N);

    static int seen[N], deleted[N];
    memset(seen, 0, sizeof seen);
    memset(deleted, 0, sizeof deleted);
    swco_table_iter_t *it = swco_table_iter_new(t);
    int n, step = 0;
    while ((n = swco_table_iter_next(it, key, sizeof key)) > 0) {
        int64_t k;
        ck_assert_int_eq(swco_table_get_int(t, key, "id", &k), 0);
        ck_assert_int_eq(seen[k], 0);
        ck_assert_int_eq(deleted[k], 0);
        seen[k] = 1;
        /* Delete the current row, and every third step some other row. */
        ck_assert_int_eq(swco_table_del(t, key), 0);
        deleted[k] = 1;
        if (step++ % 3 == 0) {
            int other = (int)((k * 7919 + 13) % N);
            snprintf(key, sizeof key, "key-%d", other);
            if (swco_table_del(t, key) == 0)
                deleted[other] = 2;
        }
    }
    ck_assert_int_eq(n, 0);
    for (int k = 0; k < N; k++)
        ck_assert_msg(seen[k] || deleted[k] == 2, "row %d skipped", k);
    ck_assert_int_eq(swco_table_count(t), 0);
    ck_assert_int_eq(swco_table_stats(t, &st), 0);
    ck_assert_uint_eq(st.conflict_used, 0);
    /* Rewind on an empty table ends at once; refill works. */
    swco_table_iter_rewind(it);
    ck_assert_int_eq(swco_table_iter_next(it, key, sizeof key), 0);
    swco_table_set_int(t, "again", "id", 1);
    swco_table_iter_rewind(it);
    ck_assert_int_eq(swco_table_iter_next(it, key, 3), -ENOSPC);
    ck_assert_int_eq(swco_table_iter_next(it, key, sizeof key), 5);
    ck_assert_str_eq(key, "again");
    swco_table_iter_free(it);
    swco_table_free(t);
}
END_TEST

/* Four processes, 100,000 operations each: own rows (set, incr, string,
 * delete, re-create) and shared counters every process increments.  Each
 * child checks its reads against its model as it goes; afterwards the
 * parent replays every child's model and checks every final value. */
enum { PROCS = 4, OPS = 100000, OWN = 500, SHARED = 50 };

typedef struct model {
    int64_t val[OWN];
    int alive[OWN];
    char str[OWN][17];
} model_t;

/* Run process p's operations on t (or only on the model when t is NULL);
 * returns 0 or the number of the check that failed. */
static int run_ops(swco_table_t *t, int p, model_t *m)
{
    unsigned seed = 1234u + (unsigned)p;
    char key[32], s[17];
    memset(m, 0, sizeof *m);
    for (int op = 0; op < OPS; op++) {
        int k = (int)(rand_r(&seed) % OWN);
        snprintf(key, sizeof key, "p%d-%d", p, k);
        switch (op % 5) {
        case 0:
            if (t && swco_table_set_int(t, key, "id", op) != 0)
                return 10;
            if (!m->alive[k])
                m->str[k][0] = 0;
            m->alive[k] = 1;
            m->val[k] = op;
            break;
        case 1:
            if (t && swco_table_incr(t, key, "id", 3, NULL) != 0)
                return 11;
            if (!m->alive[k]) {
                m->val[k] = 0;
                m->str[k][0] = 0;
            }
            m->val[k] += 3;
            m->alive[k] = 1;
            break;
        case 2:
            snprintf(key, sizeof key, "shared-%d", (op / 5) % SHARED);
            if (t && swco_table_incr(t, key, "id", 1, NULL) != 0)
                return 12;
            break;
        case 3:
            if (t && swco_table_del(t, key) != (m->alive[k] ? 0 : -ENOENT))
                return 13;
            m->alive[k] = 0;
            break;
        default: {
            int64_t v;
            if (t) {
                int rc = swco_table_get_int(t, key, "id", &v);
                if (m->alive[k] ? (rc != 0 || v != m->val[k]) : rc != -ENOENT)
                    return 15;
            }
            if (m->alive[k]) {
                snprintf(s, sizeof s, "v%d", op);
                if (t && swco_table_set_string(t, key, "name", s, strlen(s)) != 0)
                    return 16;
                strcpy(m->str[k], s);
            }
            break;
        }
        }
    }
    return 0;
}

START_TEST(table_four_processes)
{
    swco_table_t *t = make_table(PROCS * OWN + SHARED + 16);
    ck_assert_int_eq(swco_table_create(t), 0);
    pid_t pids[PROCS];
    static model_t m;
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            int rc = run_ops(t, p, &m);
            swco_table_free(t); /* this process's handle only */
            _exit(rc);
        }
    }
    for (int p = 0; p < PROCS; p++)
        ck_assert_int_eq(reap(pids[p]), 0);
    long live = SHARED;
    char key[64], buf[32];
    for (int p = 0; p < PROCS; p++) {
        ck_assert_int_eq(run_ops(NULL, p, &m), 0);
        for (int k = 0; k < OWN; k++) {
            snprintf(key, sizeof key, "p%d-%d", p, k);
            int64_t v;
            int rc = swco_table_get_int(t, key, "id", &v);
            if (!m.alive[k]) {
                ck_assert_int_eq(rc, -ENOENT);
                continue;
            }
            live++;
            ck_assert_int_eq(rc, 0);
            ck_assert_int_eq(v, m.val[k]);
            ck_assert_int_eq(swco_table_get_string(t, key, "name", buf, sizeof buf),
                             (long)strlen(m.str[k]));
            ck_assert_str_eq(buf, m.str[k]);
        }
    }
    /* Each process did OPS/5 shared increments spread evenly over SHARED keys. */
    for (int j = 0; j < SHARED; j++) {
        snprintf(key, sizeof key, "shared-%d", j);
        int64_t v;
        ck_assert_int_eq(swco_table_get_int(t, key, "id", &v), 0);
        ck_assert_int_eq(v, PROCS * (OPS / 5 / SHARED));
    }
    ck_assert_int_eq(swco_table_count(t), live);
    /* Iteration finds exactly the rows counted. */
    swco_table_iter_t *it = swco_table_iter_new(t);
    long n = 0;
    while (swco_table_iter_next(it, key, sizeof key) > 0)
        n++;
    swco_table_iter_free(it);
    ck_assert_int_eq(n, live);
    swco_table_free(t);
}
END_TEST

static swco_atomic_t *holding;
static int hold_forever(swco_table_row_t *row, void *arg)
{
    swco_atomic_set(holding, 1);
    pause();
    return 0;
}

START_TEST(table_dead_lock_holder)
{
    swco_table_t *t = make_table(65536);
    ck_assert_int_eq(swco_table_create(t), 0);
    ck_assert_int_eq(swco_table_set_int(t, "victim", "id", 41), 0);
    holding = swco_atomic_new(0);
    pid_t pid = fork();
    if (pid == 0) {
        swco_table_update(t, "victim", hold_forever, NULL);
        _exit(0);
    }
    while (!swco_atomic_get(holding))
        usleep(1000);
    /* Row locks: other rows stay usable while that one is held. */
    ck_assert_int_eq(swco_table_set_int(t, "bystander", "id", 1), 0);
    kill(pid, SIGKILL);
    ck_assert_int_eq(reap(pid), 128 + SIGKILL);
    double t0 = now_s();
    ck_assert_int_eq(swco_table_incr(t, "victim", "id", 1, NULL), 0);
    ck_assert(now_s() - t0 < 10 * slow()); /* recovered, not waited out */
    int64_t v;
    ck_assert_int_eq(swco_table_get_int(t, "victim", "id", &v), 0);
    ck_assert(v == 42);
    swco_atomic_free(holding);
    swco_table_free(t);
}
END_TEST

START_TEST(table_dead_holder_not_reaped)
{
    /* The holder is killed but stays a zombie until after recovery. */
    swco_table_t *t = make_table(1024);
    swco_table_create(t);
    holding = swco_atomic_new(0);
    pid_t pid = fork();
    if (pid == 0) {
        swco_table_update(t, "z", hold_forever, NULL);
        _exit(0);
    }
    while (!swco_atomic_get(holding))
        usleep(1000);
    kill(pid, SIGKILL);
    /* dead (a zombie, not reaped): /proc/PID/stat says Z */
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (double t0 = now_s(); state != 'Z' && now_s() - t0 < 30 * slow(); usleep(1000)) {
        FILE *f = fopen(path, "r");
        if (f && fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
            state = 0;
        if (f)
            fclose(f);
    }
    ck_assert_int_eq(state, 'Z');
    ck_assert_int_eq(swco_table_set_int(t, "z", "id", 5), 0);
    ck_assert_int_eq(reap(pid), 128 + SIGKILL);
    swco_atomic_free(holding);
    swco_table_free(t);
}
END_TEST

START_TEST(table_named)
{
    char name[64];
    snprintf(name, sizeof name, "/swco-test-%d", (int)getpid());
    swco_table_t *t = make_table(128);
    ck_assert_int_eq(swco_table_create_named(t, name), 0);
    ck_assert_int_eq(swco_table_set_int(t, "shared", "id", 99), 0);

    swco_table_t *dup = make_table(128);
    ck_assert_int_eq(swco_table_create_named(dup, name), -EEXIST);
    swco_table_free(dup);

    pid_t pid = fork();
    if (pid == 0) {
        /* A fresh handle, as an unrelated process would build it. */
        swco_table_t *a = make_table(1);
        int64_t v = 0;
        if (swco_table_attach(a, name) != 0 || swco_table_get_int(a, "shared", "id", &v) != 0 ||
            v != 99 || swco_table_set_int(a, "from-child", "id", 7) != 0)
            _exit(1);
        swco_table_free(a);
        swco_table_free(t);
        _exit(0);
    }
    ck_assert_int_eq(reap(pid), 0);
    int64_t v;
    ck_assert_int_eq(swco_table_get_int(t, "from-child", "id", &v), 0);
    ck_assert(v == 7);

    swco_table_t *wrong = swco_table_new(128);
    swco_table_column(wrong, "id", SWCO_TABLE_INT, 0);
    swco_table_column(wrong, "score", SWCO_TABLE_DOUBLE, 0);
    swco_table_column(wrong, "name", SWCO_TABLE_STRING, 17);
    ck_assert_int_eq(swco_table_attach(wrong, name), SWCO_ESCHEMA);
    swco_table_free(wrong);

    swco_table_t *none = make_table(1);
    ck_assert_int_eq(swco_table_attach(none, "/swco-test-no-such-table"), -ENOENT);
    swco_table_free(none);

    ck_assert_int_eq(swco_table_unlink(name), 0);
    ck_assert_int_eq(swco_table_unlink(name), -ENOENT);
    ck_assert_int_eq(swco_table_get_int(t, "shared", "id", &v), 0);
    swco_table_free(t);
}
END_TEST

/* ------------------------------------------------------------------
 * swco_table_update()'s callback may use the same table, even the same
 * bucket, without spinning on its own lock (issue 10, item 10). */

/* Keys that share a bucket with "k0" (found through longest_chain), each
 * set with id = its index; returns how many (want n). */
static int same_bucket_keys(swco_table_t *t, char keys[][16], int n)
{
    swco_table_stats_t st = {.size = sizeof st};
    int found = 0;
    ck_assert_int_eq(swco_table_set_int(t, "k0", "id", 0), 0);
    strcpy(keys[found++], "k0");
    for (int c = 0; c < 100000 && found < n; c++) {
        char k[16];
        snprintf(k, sizeof k, "c%d", c);
        ck_assert_int_eq(swco_table_set_int(t, k, "id", found), 0);
        ck_assert_int_eq(swco_table_stats(t, &st), 0);
        if (st.longest_chain == (size_t)found + 1)
            strcpy(keys[found++], k);
        else
            ck_assert_int_eq(swco_table_del(t, k), 0);
    }
    return found;
}

typedef struct reentry {
    swco_table_t *t;
    char (*keys)[16];
    int nkeys;
    int step; /* what the callback does */
    int rc;   /* first failure seen inside */
} reentry_t;

#define REQUIRE(x)              \
    do {                        \
        if (!(x) && !a->rc)     \
            a->rc = __LINE__;   \
    } while (0)

static int read_inside(swco_table_row_t *row, void *arg)
{
    reentry_t *a = arg;
    int64_t v;
    for (int i = 0; i < a->nkeys; i++) {
        REQUIRE(swco_table_get_int(a->t, a->keys[i], "id", &v) == 0 && v == i);
        REQUIRE(swco_table_exists(a->t, a->keys[i]) == 1);
    }
    REQUIRE(swco_table_exists(a->t, "absent") == 0);
    REQUIRE(swco_table_get_int(a->t, "absent", "id", &v) == -ENOENT);
    REQUIRE(swco_table_count(a->t) == a->nkeys);
    char buf[32];
    REQUIRE(swco_table_get_string(a->t, a->keys[1], "name", buf, sizeof buf) == 0);
    swco_table_row_t *copy = swco_table_row_new(a->t);
    REQUIRE(swco_table_get_row(a->t, a->keys[0], copy) == 0);
    swco_table_row_free(copy);
    swco_table_iter_t *it = swco_table_iter_new(a->t);
    int n = 0;
    while (swco_table_iter_next(it, buf, sizeof buf) > 0)
        n++;
    swco_table_iter_free(it);
    REQUIRE(n == a->nkeys);
    swco_table_row_set_int(row, "id", 100);
    return 0;
}

START_TEST(table_update_reads_same_bucket)
{
    swco_table_t *t = make_table(64);
    ck_assert_int_eq(swco_table_create(t), 0);
    char keys[4][16];
    ck_assert_int_eq(same_bucket_keys(t, keys, 4), 4);
    reentry_t a = {.t = t, .keys = keys, .nkeys = 4};
    ck_assert_int_eq(swco_table_update(t, "k0", read_inside, &a), 0);
    ck_assert_int_eq(a.rc, 0);
    int64_t v;
    ck_assert_int_eq(swco_table_get_int(t, "k0", "id", &v), 0);
    ck_assert(v == 100);
    /* The bucket is unlocked afterwards: another process can use it. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(swco_table_incr(t, keys[1], "id", 1, NULL) == 0 ? 0 : 1);
    ck_assert_int_eq(reap(pid), 0);
    ck_assert_int_eq(swco_table_get_int(t, keys[1], "id", &v), 0);
    ck_assert(v == 2);
    swco_table_free(t);
}
END_TEST

static int bump_inner(swco_table_row_t *row, void *arg)
{
    (void)arg;
    swco_table_row_set_int(row, "id", 77);
    return 0;
}

static int write_inside(swco_table_row_t *row, void *arg)
{
    reentry_t *a = arg;
    int64_t v;
    switch (a->step) {
    case 0:
        /* Writes of other rows of the bucket, and of this row. */
        REQUIRE(swco_table_set_int(a->t, a->keys[1], "id", 11) == 0);
        REQUIRE(swco_table_incr(a->t, a->keys[2], "id", 10, &v) == 0 && v == 12);
        REQUIRE(swco_table_set_string(a->t, a->keys[0], "name", "inner", 5) == 0);
        REQUIRE(swco_table_update(a->t, a->keys[3], bump_inner, NULL) == 0);
        /* Deleting the bucket's first row moves the others. */
        REQUIRE(swco_table_del(a->t, "k0") == 0);
        swco_table_row_set_double(row, "score", 2.5);
        return 0;
    case 1:
        /* Delete this row and set a column: the row comes back. */
        REQUIRE(swco_table_del(a->t, a->keys[1]) == 0);
        swco_table_row_set_int(row, "id", 5);
        return 0;
    default:
        /* Delete this row and set nothing: it stays deleted. */
        REQUIRE(swco_table_del(a->t, a->keys[2]) == 0);
        return 0;
    }
}

START_TEST(table_update_writes_same_bucket)
{
    swco_table_t *t = make_table(64);
    ck_assert_int_eq(swco_table_create(t), 0);
    char keys[4][16];
    ck_assert_int_eq(same_bucket_keys(t, keys, 4), 4);
    int64_t v;
    double d;
    char buf[32];
    /* Update the last key of the chain while its bucket's head goes. */
    reentry_t a = {.t = t, .keys = keys, .nkeys = 4, .step = 0};
    ck_assert_int_eq(swco_table_update(t, keys[3], write_inside, &a), 0);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_int_eq(swco_table_exists(t, "k0"), 0);
    ck_assert_int_eq(swco_table_get_int(t, keys[1], "id", &v), 0);
    ck_assert(v == 11);
    ck_assert_int_eq(swco_table_get_int(t, keys[2], "id", &v), 0);
    ck_assert(v == 12);
    ck_assert_int_eq(swco_table_get_int(t, keys[3], "id", &v), 0);
    ck_assert(v == 77); /* the inner update's, kept: the outer set score */
    ck_assert_int_eq(swco_table_get_double(t, keys[3], "score", &d), 0);
    ck_assert(d == 2.5);
    ck_assert_int_eq(swco_table_count(t), 3);

    a.step = 1;
    ck_assert_int_eq(swco_table_update(t, keys[1], write_inside, &a), 0);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_int_eq(swco_table_get_int(t, keys[1], "id", &v), 0);
    ck_assert(v == 5);
    ck_assert_int_eq(swco_table_get_string(t, keys[1], "name", buf, sizeof buf), 0);

    a.step = 2;
    ck_assert_int_eq(swco_table_update(t, keys[2], write_inside, &a), 0);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_int_eq(swco_table_exists(t, keys[2]), 0);
    ck_assert_int_eq(swco_table_count(t), 2);
    ck_assert_int_eq(swco_table_set_int(t, keys[2], "id", 1), 0);
    ck_assert_int_eq(swco_table_count(t), 3);
    swco_table_free(t);
}
END_TEST

/* ------------------------------------------------------------------
 * swco_table_attach() checks a header it did not write, and the table
 * survives chain links a broken process wrote. */

/* Map the named segment as a hostile process would. */
static void *map_named(const char *name, size_t *size)
{
    int fd = shm_open(name, O_RDWR, 0);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    *size = (size_t)st.st_size;
    void *mem = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);
    close(fd);
    return mem;
}

static int attach_fresh(const char *name)
{
    swco_table_t *a = make_table(1);
    int rc = swco_table_attach(a, name);
    if (rc == 0) {
        /* Whatever was accepted must be usable. */
        int64_t v;
        swco_table_set_int(a, "probe", "id", 1);
        swco_table_get_int(a, "probe", "id", &v);
        swco_table_del(a, "probe");
    }
    swco_table_free(a);
    return rc;
}

START_TEST(table_attach_checks_header)
{
    char name[64];
    snprintf(name, sizeof name, "/swco-test-hdr-%d", (int)getpid());
    swco_table_unlink(name);
    swco_table_t *t = make_table(100);
    ck_assert_int_eq(swco_table_create_named(t, name), 0);
    size_t size;
    swco__table_hdr_t *h = map_named(name, &size), saved = *h;
    ck_assert_int_eq(attach_fresh(name), 0);

    struct {
        size_t off, width;
        uint64_t value;
    } bad[] = {
        {offsetof(swco__table_hdr_t, nbuckets), 8, 1ULL << 40},
        {offsetof(swco__table_hdr_t, nbuckets), 8, 0},
        {offsetof(swco__table_hdr_t, nbuckets), 8, 1024},
        {offsetof(swco__table_hdr_t, hdr_size), 8, 1ULL << 40},
        {offsetof(swco__table_hdr_t, hdr_size), 8, 8},
        {offsetof(swco__table_hdr_t, row_size), 8, 8},
        {offsetof(swco__table_hdr_t, row_size), 8, 1ULL << 50},
        {offsetof(swco__table_hdr_t, data_size), 8, 1ULL << 20},
        {offsetof(swco__table_hdr_t, capacity), 8, 0},
        {offsetof(swco__table_hdr_t, capacity), 8, 1ULL << 33},
        {offsetof(swco__table_hdr_t, nconflict), 8, 1ULL << 33},
        {offsetof(swco__table_hdr_t, free_head), 4, 1},
        {offsetof(swco__table_hdr_t, free_head), 4, 0xffffffff},
        {offsetof(swco__table_hdr_t, next_unused), 8, 1ULL << 40},
        {offsetof(swco__table_hdr_t, rows_used), 8, (uint64_t)-1},
        {offsetof(swco__table_hdr_t, conflict_used), 8, 1ULL << 40},
        {offsetof(swco__table_hdr_t, magic), 8, 0x4141414141414141ULL},
        {offsetof(swco__table_hdr_t, version), 4, 99},
        {offsetof(swco__table_hdr_t, hdr_bytes), 4, 8},
        {offsetof(swco__table_hdr_t, ncols), 4, 1000},
        {offsetof(swco__table_hdr_t, total_size), 8, 1ULL << 40},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy((char *)h + bad[i].off, &bad[i].value, bad[i].width);
        int rc = attach_fresh(name);
        if (rc != SWCO_ESCHEMA)
            ck_abort_msg("corruption %zu (offset %zu) attached: %d", i, bad[i].off, rc);
        *h = saved;
    }
    /* Not finished by its creator yet. */
    h->ready = 0;
    ck_assert_int_eq(attach_fresh(name), -EAGAIN);
    *h = saved;
    ck_assert_int_eq(attach_fresh(name), 0);
    munmap(h, size);
    ck_assert_int_eq(swco_table_unlink(name), 0);
    swco_table_free(t);

    /* Segments that are no table at all: too short, garbage. */
    static const size_t sizes[] = {0, 16, sizeof(swco__table_hdr_t), 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t)sizes[i]), 0);
        if (sizes[i]) {
            unsigned char *m = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            ck_assert_ptr_ne(m, MAP_FAILED);
            for (size_t k = 0; k < sizes[i]; k++)
                m[k] = (unsigned char)(k * 131 + 7);
            munmap(m, sizes[i]);
        }
        close(fd);
        ck_assert_int_eq(attach_fresh(name), sizes[i] ? SWCO_ESCHEMA : -EAGAIN);
        ck_assert_int_eq(swco_table_unlink(name), 0);
    }
}
END_TEST

START_TEST(table_corrupt_links)
{
    char name[64];
    snprintf(name, sizeof name, "/swco-test-links-%d", (int)getpid());
    swco_table_unlink(name);
    swco_table_t *t = make_table(1); /* one bucket: every key chains */
    ck_assert_int_eq(swco_table_create_named(t, name), 0);
    ck_assert_int_eq(swco_table_set_int(t, "a", "id", 1), 0);
    ck_assert_int_eq(swco_table_set_string(t, "a", "name", "abc", 3), 0);
    size_t size;
    swco__table_hdr_t *h = map_named(name, &size);
    unsigned char *row0 = (unsigned char *)h + h->hdr_size;
    static const uint32_t links[] = {0x7fffffff, 1, 0xffffffff};
    for (size_t i = 0; i < 3; i++) {
        /* row header: lock (4), next (4), keylen (1), key */
        memcpy(row0 + 4, &links[i], 4);
        int64_t v;
        ck_assert_int_eq(swco_table_get_int(t, "zzz", "id", &v), -ENOENT);
        ck_assert_int_eq(swco_table_get_int(t, "a", "id", &v), 0);
        swco_table_stats_t st = {.size = sizeof st};
        ck_assert_int_eq(swco_table_stats(t, &st), 0);
        swco_table_iter_t *it = swco_table_iter_new(t);
        char k[80];
        int n = 0;
        while (swco_table_iter_next(it, k, sizeof k) > 0)
            n++;
        swco_table_iter_free(it);
        ck_assert_int_ge(n, 1);
        uint32_t zero = 0;
        memcpy(row0 + 4, &zero, 4);
    }
    /* A key length past the key field and a string length past its column. */
    row0[8] = 200;
    char k[300];
    swco_table_iter_t *it = swco_table_iter_new(t);
    ck_assert_int_eq(swco_table_iter_next(it, k, sizeof k), 0); /* no such key */
    swco_table_iter_free(it);
    row0[8] = 1;
    uint32_t huge = 0xfffffff0;
    memcpy(row0 + SWCO__TABLE_ROW_HDR + 16, &huge, 4); /* name after id, score */
    char buf[64];
    ck_assert_int_eq(swco_table_get_string(t, "a", "name", buf, sizeof buf), 16);
    munmap(h, size);
    ck_assert_int_eq(swco_table_unlink(name), 0);
    swco_table_free(t);
}
END_TEST

/* ---- issue 11: structs carry their size */

START_TEST(table_stats_respects_size)
{
    swco_table_t *t = make_table(64);
    ck_assert_int_eq(swco_table_create(t), 0);
    ck_assert_int_eq(swco_table_set_int(t, "k", "id", 1), 0);
    union {
        swco_table_stats_t st;
        unsigned char bytes[sizeof(swco_table_stats_t) + 32];
    } u;
    memset(&u, 0xAA, sizeof u);
    u.st.size = sizeof u.st - 1;
    ck_assert_int_eq(swco_table_stats(t, &u.st), -EINVAL);
    for (size_t i = sizeof(size_t); i < sizeof u; i++)
        ck_assert_uint_eq(u.bytes[i], 0xAA);
    u.st.size = sizeof u.st;
    ck_assert_int_eq(swco_table_stats(t, &u.st), 0);
    ck_assert_uint_eq(u.st.rows_used, 1);
    ck_assert_uint_eq(u.st.capacity, 64);
    for (size_t i = sizeof u.st; i < sizeof u; i++)
        ck_assert_uint_eq(u.bytes[i], 0xAA);
    swco_table_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("table");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, table_basic);
    tcase_add_test(tc, table_bad_input);
    tcase_add_test(tc, table_rows);
    tcase_add_test(tc, table_update);
    tcase_add_test(tc, table_iterate_while_deleting);
    tcase_add_test(tc, table_four_processes);
    tcase_add_test(tc, table_dead_lock_holder);
    tcase_add_test(tc, table_dead_holder_not_reaped);
    tcase_add_test(tc, table_named);
    tcase_add_test(tc, table_update_reads_same_bucket);
    tcase_add_test(tc, table_update_writes_same_bucket);
    tcase_add_test(tc, table_attach_checks_header);
    tcase_add_test(tc, table_corrupt_links);
    tcase_add_test(tc, table_stats_respects_size);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

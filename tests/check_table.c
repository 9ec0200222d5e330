#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
    swco_table_stats_t st;
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
    suite_add_tcase(s, tc);
    return run_suite(s);
}

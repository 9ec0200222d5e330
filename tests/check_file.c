/* File helpers on the AIO pool. */
#include "testutil.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void files(void *arg)
{
    (void)arg;
    char p[256], q[256], sub[256];
    snprintf(dir, sizeof dir, "/tmp/swco-file-%d", (int)getpid());
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    ck_assert_int_eq(swco_file_mkdir(sub, 0755, 1), 0);
    ck_assert_int_eq(swco_file_mkdir(dir, 0755, 0), -EEXIST);

    path_in(p, sizeof p, "data.txt");
    ck_assert_int_eq(swco_file_write_all(p, "hello ", 6, 0), 6);
    ck_assert_int_eq(swco_file_write_all(p, "world", 5, SWCO_FILE_APPEND | SWCO_FILE_LOCK), 5);
    ck_assert_int_eq(swco_file_write_all(p, "x", 1, SWCO_FILE_EXCL), -EEXIST);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(swco_file_read_all(p, &data, &len), 0);
    ck_assert_uint_eq(len, 11);
    ck_assert_str_eq(data, "hello world");
    free(data);

    swco_file_stat_t st = {.size = sizeof st};
    ck_assert_int_eq(swco_file_stat(p, 0, &st), 0);
    ck_assert_int_eq(st.file_size, 11);
    ck_assert(st.is_file && !st.is_dir);
    ck_assert_int_eq(swco_file_stat(dir, 0, &st), 0);
    ck_assert(st.is_dir);
    swco_file_statvfs_t vfs = {.size = sizeof vfs};
    ck_assert_int_eq(swco_file_statvfs(dir, &vfs), 0);
    ck_assert(vfs.total > 0 && vfs.avail <= vfs.total);

    int fd = swco_file_open(p, O_RDWR, 0);
    ck_assert_int_ge(fd, 0);
    char buf[16] = {0};
    ck_assert_int_eq(swco_file_read(fd, buf, 5, 6), 5);
    ck_assert_str_eq(buf, "world");
    ck_assert_int_eq(swco_file_write(fd, "HELLO", 5, 0), 5);
    ck_assert_int_eq(swco_file_read(fd, buf, sizeof buf, -1), 11); /* position still 0 */
    ck_assert(memcmp(buf, "HELLO world", 11) == 0);
    ck_assert_int_eq(swco_file_read(fd, buf, sizeof buf, -1), 0);
    ck_assert_int_eq(swco_file_close(fd), 0);
    ck_assert_int_eq(swco_file_close(fd), -EBADF);

    path_in(q, sizeof q, "renamed.txt");
    ck_assert_int_eq(swco_file_rename(p, q), 0);
    ck_assert_int_eq(swco_file_read_all(p, &data, &len), -ENOENT);
    ck_assert_int_eq(swco_file_read_all(dir, &data, &len), -EISDIR);
    ck_assert_int_eq(swco_file_unlink(q), 0);
    ck_assert_int_eq(swco_file_unlink(q), -ENOENT);
    ck_assert_int_eq(swco_file_open("/nonexistent/x", O_RDONLY, 0), -ENOENT);

    /* a big file through the pool */
    path_in(p, sizeof p, "big.bin");
    size_t big = 3 << 20;
    char *blob = malloc(big);
    for (size_t i = 0; i < big; i++)
        blob[i] = (char)(i * 7);
    ck_assert_int_eq(swco_file_write_all(p, blob, big, SWCO_FILE_SYNC), (long)big);
    ck_assert_int_eq(swco_file_read_all(p, &data, &len), 0);
    ck_assert_uint_eq(len, big);
    ck_assert(memcmp(data, blob, big) == 0);
    free(data);
    free(blob);
    ck_assert_int_eq(swco_file_unlink(p), 0);

    ck_assert_int_eq(swco_file_rmdir(sub), 0);
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    ck_assert_int_eq(swco_file_rmdir(sub), 0);
    snprintf(sub, sizeof sub, "%s/a", dir);
    ck_assert_int_eq(swco_file_rmdir(sub), 0);
    ck_assert_int_eq(swco_file_rmdir(dir), 0);
    ck_assert_int_eq(swco_file_rmdir(dir), -ENOENT);
}

START_TEST(file_ops)
{
    ck_assert_int_eq(swco_run(files, NULL), 0);
}
END_TEST

START_TEST(outside_coroutine)
{
    char *data;
    size_t len;
    ck_assert_int_eq(swco_file_read_all("/proc/self/status", &data, &len), 0);
    ck_assert(len > 0 && strstr(data, "Name:") != NULL);
    free(data);
}
END_TEST

static int readers_done;

static void reader(void *arg)
{
    (void)arg;
    char *data;
    size_t len;
    ck_assert_int_eq(swco_file_read_all("/proc/self/stat", &data, &len), 0);
    free(data);
    readers_done++;
}

static void victim(void *arg)
{
    (void)arg;
    char *data = NULL;
    size_t len;
    int rc = swco_file_read_all("/proc/self/status", &data, &len);
    if (rc == 0)
        free(data);
    else
        ck_assert_int_eq(rc, -ECANCELED);
}

static void many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 30; i++)
        swco_coroutine_create(reader, NULL);
    long cid = swco_coroutine_create(victim, NULL);
    swco_coroutine_cancel(cid); /* the late job frees itself */
}

START_TEST(concurrent_and_cancel)
{
    readers_done = 0;
    ck_assert_int_eq(swco_run(many, NULL), 0);
    ck_assert_int_eq(readers_done, 30);
}
END_TEST

/* ---- issue 11: structs carry their size */

START_TEST(stat_structs_respect_size)
{
    union {
        swco_file_stat_t st;
        unsigned char bytes[sizeof(swco_file_stat_t) + 32];
    } a;
    union {
        swco_file_statvfs_t st;
        unsigned char bytes[sizeof(swco_file_statvfs_t) + 32];
    } b;
    memset(&a, 0xAA, sizeof a);
    memset(&b, 0xAA, sizeof b);
    /* The first version ends with is_link; padding after it is not needed. */
    size_t v1 = offsetof(swco_file_stat_t, is_link) + sizeof(int);
    a.st.size = v1 - 1;
    b.st.size = 0;
    ck_assert_int_eq(swco_file_stat("/", 0, &a.st), -EINVAL);
    ck_assert_int_eq(swco_file_statvfs("/", &b.st), -EINVAL);
    for (size_t i = sizeof(size_t); i < sizeof a; i++)
        ck_assert_uint_eq(a.bytes[i], 0xAA);
    for (size_t i = sizeof(size_t); i < sizeof b; i++)
        ck_assert_uint_eq(b.bytes[i], 0xAA);
    /* Exactly the first version: filled up to is_link, not a byte more. */
    a.st.size = v1;
    ck_assert_int_eq(swco_file_stat("/", 0, &a.st), 0);
    ck_assert(a.st.is_dir && !a.st.is_link);
    for (size_t i = v1; i < sizeof a; i++)
        ck_assert_uint_eq(a.bytes[i], 0xAA);
    a.st.size = sizeof a.st;
    b.st.size = sizeof b.st;
    ck_assert_int_eq(swco_file_stat("/", 0, &a.st), 0);
    ck_assert_int_eq(swco_file_statvfs("/", &b.st), 0);
    ck_assert(a.st.is_dir);
    ck_assert_uint_eq(a.st.size, sizeof a.st);
    ck_assert(b.st.total > 0);
    for (size_t i = sizeof a.st; i < sizeof a; i++)
        ck_assert_uint_eq(a.bytes[i], 0xAA);
    for (size_t i = sizeof b.st; i < sizeof b; i++)
        ck_assert_uint_eq(b.bytes[i], 0xAA);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, file_ops);
    tcase_add_test(tc, outside_coroutine);
    tcase_add_test(tc, concurrent_and_cancel);
    tcase_add_test(tc, stat_structs_respect_size);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

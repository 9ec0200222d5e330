/* Regular-file calls run on the AIO pool.  Each call is one heap job that
 * owns copies of its inputs and outputs, so an abandoned job (the coroutine
 * was cancelled) frees itself and never touches the caller's memory. */
#include "io/io_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum { OP_READ_ALL, OP_WRITE_ALL, OP_OPEN, OP_READ, OP_WRITE, OP_CLOSE, OP_STAT, OP_STATVFS,
       OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_RENAME };

typedef struct fop {
    int op;
    char *path, *path2;
    int flags, mode, fd;
    long long offset;
    char *buf;
    size_t len;
    long rc;
    struct stat st;
    struct statvfs vfs;
} fop_t;

static long do_read_all(fop_t *f)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        return -e;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
    char *buf = malloc(cap);
    long rc = 0;
    while (buf) {
        if (len + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (!buf || rc) {
        free(buf);
        return buf ? rc : -ENOMEM;
    }
    buf[len] = 0;
    f->buf = buf;
    f->len = len;
    return 0;
}

static long do_write_all(fop_t *f)
{
    int of = O_WRONLY | O_CREAT | O_CLOEXEC;
    of |= f->flags & SWCO_FILE_APPEND ? O_APPEND : O_TRUNC;
    if (f->flags & SWCO_FILE_EXCL)
        of |= O_EXCL;
    int fd = open(f->path, of, 0644);
    if (fd < 0)
        return -errno;
    long rc = 0;
    if ((f->flags & SWCO_FILE_LOCK) && flock(fd, LOCK_EX) != 0)
        rc = -errno;
    size_t done = 0;
    while (rc == 0 && done < f->len) {
        ssize_t n = write(fd, f->buf + done, f->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else
            done += (size_t)n;
    }
    if (rc == 0 && (f->flags & SWCO_FILE_SYNC) && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc ? rc : (long)done;
}

static long ret(long n) { return n < 0 ? -errno : n; }

static void fop_run(void *arg)
{
    fop_t *f = arg;
    switch (f->op) {
    case OP_READ_ALL:
        f->rc = do_read_all(f);
        break;
    case OP_WRITE_ALL:
        f->rc = do_write_all(f);
        break;
    case OP_OPEN:
        f->rc = ret(open(f->path, f->flags | O_CLOEXEC, f->mode));
        break;
    case OP_READ:
        f->rc = ret(f->offset >= 0 ? pread(f->fd, f->buf, f->len, (off_t)f->offset)
                                   : read(f->fd, f->buf, f->len));
        break;
    case OP_WRITE:
        f->rc = ret(f->offset >= 0 ? pwrite(f->fd, f->buf, f->len, (off_t)f->offset)
                                   : write(f->fd, f->buf, f->len));
        break;
    case OP_CLOSE:
        f->rc = ret(close(f->fd));
        break;
    case OP_STAT:
        f->rc = ret(f->flags ? lstat(f->path, &f->st) : stat(f->path, &f->st));
        break;
    case OP_STATVFS:
        f->rc = ret(statvfs(f->path, &f->vfs));
        break;
    case OP_UNLINK:
        f->rc = ret(unlink(f->path));
        break;
    case OP_MKDIR:
        if (!f->flags) {
            f->rc = ret(mkdir(f->path, (mode_t)f->mode));
            break;
        }
        /* recursive: create each missing component */
        f->rc = 0;
        for (char *p = f->path + 1;; p++) {
            if (*p != '/' && *p != 0)
                continue;
            char c = *p;
            *p = 0;
            if (mkdir(f->path, (mode_t)f->mode) != 0 && errno != EEXIST)
                f->rc = -errno;
            *p = c;
            if (f->rc || c == 0)
                break;
        }
        if (f->rc == 0) {
            struct stat st;
            if (stat(f->path, &st) != 0 || !S_ISDIR(st.st_mode))
                f->rc = -ENOTDIR;
        }
        break;
    case OP_RMDIR:
        f->rc = ret(rmdir(f->path));
        break;
    case OP_RENAME:
        f->rc = ret(rename(f->path, f->path2));
        break;
    }
}

static void fop_free(void *arg)
{
    fop_t *f = arg;
    free(f->path);
    free(f->path2);
    free(f->buf);
    free(f);
}

static fop_t *fop_new(int op, const char *path)
{
    fop_t *f = calloc(1, sizeof *f);
    if (f && path && !(f->path = strdup(path))) {
        free(f);
        f = NULL;
    }
    if (f)
        f->op = op;
    return f;
}

/* Run f on the pool.  Returns f->rc; f is freed unless keep (then the
 * caller frees it, and only when the return is >= 0). */
static long fop_submit(fop_t *f, int keep)
{
    if (!f)
        return swco__fail(-ENOMEM);
    int rc = swco_aio_run(fop_run, f, fop_free, -1);
    if (rc != 0)
        return rc; /* the pool frees f */
    long r = f->rc;
    if (!keep || r < 0)
        fop_free(f);
    return r < 0 ? swco__fail((int)r) : r;
}

int swco_file_read_all(const char *path, char **out, size_t *out_len)
{
    if (!path || !out)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_READ_ALL, path);
    long rc = fop_submit(f, 1);
    if (rc < 0)
        return (int)rc;
    *out = f->buf;
    if (out_len)
        *out_len = f->len;
    f->buf = NULL;
    fop_free(f);
    return 0;
}

long swco_file_write_all(const char *path, const void *data, size_t len, int flags)
{
    if (!path || (!data && len) || (flags & ~15))
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_WRITE_ALL, path);
    if (f && len && !(f->buf = malloc(len))) {
        fop_free(f);
        f = NULL;
    }
    if (f) {
        if (len)
            memcpy(f->buf, data, len);
        f->len = len;
        f->flags = flags;
    }
    return fop_submit(f, 0);
}

int swco_file_open(const char *path, int flags, int mode)
{
    if (!path)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_OPEN, path);
    if (f) {
        f->flags = flags;
        f->mode = mode;
    }
    return (int)fop_submit(f, 0);
}

long swco_file_read(int fd, void *buf, size_t len, long long offset)
{
    if (fd < 0)
        return swco__fail(-EBADF);
    if (!buf && len)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_READ, NULL);
    if (f && !(f->buf = malloc(len ? len : 1))) {
        fop_free(f);
        f = NULL;
    }
    if (f) {
        f->fd = fd;
        f->len = len;
        f->offset = offset;
    }
    long rc = fop_submit(f, 1);
    if (rc < 0)
        return rc;
    memcpy(buf, f->buf, (size_t)rc);
    fop_free(f);
    return rc;
}

long swco_file_write(int fd, const void *data, size_t len, long long offset)
{
    if (fd < 0)
        return swco__fail(-EBADF);
    if (!data && len)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_WRITE, NULL);
    if (f && !(f->buf = malloc(len ? len : 1))) {
        fop_free(f);
        f = NULL;
    }
    if (f) {
        if (len)
            memcpy(f->buf, data, len);
        f->fd = fd;
        f->len = len;
        f->offset = offset;
    }
    return fop_submit(f, 0);
}

int swco_file_close(int fd)
{
    if (fd < 0)
        return swco__fail(-EBADF);
    fop_t *f = fop_new(OP_CLOSE, NULL);
    if (f)
        f->fd = fd;
    return (int)fop_submit(f, 0);
}

int swco_file_stat(const char *path, int nofollow, swco_file_stat_t *out)
{
    if (!path || !out || out->size < SWCO__STRUCT_V1_SIZE(swco_file_stat_t, is_link))
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_STAT, path);
    if (f)
        f->flags = nofollow != 0;
    long rc = fop_submit(f, 1);
    if (rc < 0)
        return (int)rc;
    swco_file_stat_t full, *st = &full;
    memset(st, 0, sizeof *st);
    st->file_size = (long long)f->st.st_size;
    st->mtime = (long long)f->st.st_mtime;
    st->atime = (long long)f->st.st_atime;
    st->ctime = (long long)f->st.st_ctime;
    st->mode = (unsigned)f->st.st_mode;
    st->uid = (unsigned)f->st.st_uid;
    st->gid = (unsigned)f->st.st_gid;
    st->inode = (unsigned long long)f->st.st_ino;
    st->nlink = (unsigned long long)f->st.st_nlink;
    st->is_dir = S_ISDIR(f->st.st_mode);
    st->is_file = S_ISREG(f->st.st_mode);
    st->is_link = S_ISLNK(f->st.st_mode);
    fop_free(f);
    swco__struct_fill(out, st, sizeof *st);
    return 0;
}

int swco_file_statvfs(const char *path, swco_file_statvfs_t *out)
{
    if (!path || !out || out->size < SWCO__STRUCT_V1_SIZE(swco_file_statvfs_t, block_size))
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_STATVFS, path);
    long rc = fop_submit(f, 1);
    if (rc < 0)
        return (int)rc;
    unsigned long long fr = f->vfs.f_frsize ? f->vfs.f_frsize : f->vfs.f_bsize;
    swco_file_statvfs_t full, *st = &full;
    memset(st, 0, sizeof *st);
    st->total = (unsigned long long)f->vfs.f_blocks * fr;
    st->free = (unsigned long long)f->vfs.f_bfree * fr;
    st->avail = (unsigned long long)f->vfs.f_bavail * fr;
    st->files = (unsigned long long)f->vfs.f_files;
    st->files_free = (unsigned long long)f->vfs.f_ffree;
    st->block_size = f->vfs.f_bsize;
    fop_free(f);
    swco__struct_fill(out, st, sizeof *st);
    return 0;
}

static int path_op(int op, const char *path, int flags, int mode)
{
    if (!path || !*path)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(op, path);
    if (f) {
        f->flags = flags;
        f->mode = mode;
    }
    return (int)fop_submit(f, 0);
}

int swco_file_unlink(const char *path) { return path_op(OP_UNLINK, path, 0, 0); }

int swco_file_mkdir(const char *path, int mode, int recursive)
{
    return path_op(OP_MKDIR, path, recursive != 0, mode);
}

int swco_file_rmdir(const char *path) { return path_op(OP_RMDIR, path, 0, 0); }

int swco_file_rename(const char *from, const char *to)
{
    if (!from || !to)
        return swco__fail(-EINVAL);
    fop_t *f = fop_new(OP_RENAME, from);
    if (f && !(f->path2 = strdup(to))) {
        fop_free(f);
        f = NULL;
    }
    return (int)fop_submit(f, 0);
}

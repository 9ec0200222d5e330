/* libswco: regular-file operations on the AIO thread pool.
 *
 * Regular files are always "ready" to the kernel, so reads and writes on
 * them block; these calls run the blocking system call on the AIO pool
 * while the calling coroutine yields (outside a coroutine they simply run
 * in the calling thread).  Data is copied through the pool job, so a
 * cancelled call never writes into the caller's memory afterwards.
 */
#ifndef SWCO_FILE_H
#define SWCO_FILE_H

#include <stddef.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

/* Flags for swco_file_write_all(). */
enum swco_file_flag {
    SWCO_FILE_APPEND = 1,  /* append instead of truncating */
    SWCO_FILE_EXCL = 2,    /* fail with -EEXIST when the file exists */
    SWCO_FILE_SYNC = 4,    /* fsync before returning */
    SWCO_FILE_LOCK = 8     /* hold an exclusive flock while writing */
};

/*
 * The fields of stat(2) a program usually needs.  Set size to sizeof the
 * struct before the call; fields added later go at the end.
 */
typedef struct swco_file_stat {
    size_t size;          /* set by the caller: sizeof(swco_file_stat_t) */
    long long file_size;  /* st_size: the file's length in bytes */
    long long mtime;      /* seconds since the epoch */
    long long atime;
    long long ctime;
    unsigned mode;        /* st_mode: type and permission bits */
    unsigned uid, gid;
    unsigned long long inode;
    unsigned long long nlink;
    int is_dir, is_file, is_link;
} swco_file_stat_t;

/* Filesystem space, in bytes.  Set size to sizeof the struct before the call. */
typedef struct swco_file_statvfs {
    size_t size;          /* set by the caller: sizeof(swco_file_statvfs_t) */
    unsigned long long total, free, avail;
    unsigned long long files, files_free;
    unsigned long block_size;
} swco_file_statvfs_t;

/**
 * swco_file_read_all - read a whole file into a new buffer
 *
 * On success *out points to a malloc'd buffer (free it with free()) holding
 * the file's bytes plus a terminating NUL not counted in *out_len.  Returns
 * 0 or -errno (-ENOENT, -EISDIR, ...), -ECANCELED.
 */
SWCO_API int swco_file_read_all(const char *path, char **out, size_t *out_len);

/**
 * swco_file_write_all - write a whole buffer to a file
 *
 * Creates the file (mode 0644 less the umask) or truncates it; flags is an
 * or of SWCO_FILE_APPEND, SWCO_FILE_EXCL, SWCO_FILE_SYNC, SWCO_FILE_LOCK.
 * Returns the number of bytes written (len) or -errno.
 */
SWCO_API long swco_file_write_all(const char *path, const void *data, size_t len, int flags);

/**
 * swco_file_open - open a file as open(2) does
 *
 * flags and mode are those of open(2); O_CLOEXEC is added.  Returns the
 * descriptor or -errno.
 */
SWCO_API int swco_file_open(const char *path, int flags, int mode);

/**
 * swco_file_read - read from a file descriptor
 *
 * Reads up to len bytes at offset (or at the current position when offset
 * < 0).  Returns the bytes read (0 at end of file) or -errno.
 */
SWCO_API long swco_file_read(int fd, void *buf, size_t len, long long offset);

/**
 * swco_file_write - write to a file descriptor
 *
 * Writes up to len bytes at offset (or at the current position when offset
 * < 0).  Returns the bytes written or -errno.
 */
SWCO_API long swco_file_write(int fd, const void *data, size_t len, long long offset);

/**
 * swco_file_close - close a descriptor from swco_file_open()
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_file_close(int fd);

/**
 * swco_file_stat - stat a path (following symbolic links unless nofollow)
 *
 * Fills the fields of *st that fit in st->size bytes, never writing past
 * them.  Returns 0, -EINVAL (path or st NULL, st->size smaller than the
 * first version of the struct, up to is_link) or -errno.
 */
SWCO_API int swco_file_stat(const char *path, int nofollow, swco_file_stat_t *st);

/**
 * swco_file_statvfs - space of the filesystem holding path
 *
 * Fills the fields of *st that fit in st->size bytes, never writing past
 * them.  Returns 0, -EINVAL (path or st NULL, st->size smaller than the
 * first version of the struct, up to block_size) or -errno.
 */
SWCO_API int swco_file_statvfs(const char *path, swco_file_statvfs_t *st);

/**
 * swco_file_unlink - remove a file
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_file_unlink(const char *path);

/**
 * swco_file_mkdir - create a directory (recursive: with missing parents)
 *
 * Returns 0 or -errno (-EEXIST when it exists and recursive is 0).
 */
SWCO_API int swco_file_mkdir(const char *path, int mode, int recursive);

/**
 * swco_file_rmdir - remove an empty directory
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_file_rmdir(const char *path);

/**
 * swco_file_rename - rename a file or directory
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_file_rename(const char *from, const char *to);

SWCO_END_DECLS

#endif /* SWCO_FILE_H */

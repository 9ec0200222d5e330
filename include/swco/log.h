/* libswco: logging.  The library never prints to stdout; diagnostics go to
 * the log handler (stderr by default) and can be redirected or silenced. */
#ifndef SWCO_LOG_H
#define SWCO_LOG_H

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

typedef enum swco_log_level {
    SWCO_LOG_DEBUG = 0,
    SWCO_LOG_INFO = 1,
    SWCO_LOG_WARNING = 2,
    SWCO_LOG_ERROR = 3,
    SWCO_LOG_NONE = 4
} swco_log_level_t;

/* A log handler gets the level and one formatted line without newline. */
typedef void (*swco_log_fn)(int level, const char *message, void *arg);

/**
 * swco_log_set_level - choose the least severe level that is logged
 *
 * Messages below level are dropped.  The default is SWCO_LOG_WARNING, or the
 * value of the SWCO_LOG_LEVEL environment variable (debug, info, warning,
 * error, none) when it is set.  Returns 0, or -EINVAL for an unknown level.
 */
SWCO_API int swco_log_set_level(int level);

/**
 * swco_log_get_level - the least severe level that is logged
 */
SWCO_API int swco_log_get_level(void);

/**
 * swco_log_set_handler - send log lines somewhere else
 *
 * Each message is passed to fn(level, message, arg) instead of being written
 * to stderr.  fn NULL restores the stderr handler.  The previous handler's
 * arg is released with its arg_free, if one was given.  The handler may be
 * called from any thread that uses the library, one call at a time; it must
 * not call swco_log_write() or swco_log_set_handler() itself.
 */
SWCO_API void swco_log_set_handler(swco_log_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_log_write - write one message through the library's log handler
 *
 * Lets a program or binding log through the same handler and level filter.
 */
SWCO_API void swco_log_write(int level, const char *message);

SWCO_END_DECLS

#endif /* SWCO_LOG_H */

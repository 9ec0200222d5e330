/* Logging through a replaceable handler; stderr by default. */
#include "internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = -1; /* -1: not read from the environment yet */
static swco_log_fn log_fn;
static void *log_arg;
static swco_free_fn log_arg_free;

static const char *const level_names[] = {"debug", "info", "warning", "error", "none"};

static int level_from_env(void)
{
    const char *v = getenv("SWCO_LOG_LEVEL");
    if (v)
        for (int i = 0; i <= SWCO_LOG_NONE; i++)
            if (strcasecmp(v, level_names[i]) == 0)
                return i;
    return SWCO_LOG_WARNING;
}

int swco_log_get_level(void)
{
    int l = __atomic_load_n(&log_level, __ATOMIC_RELAXED);
    if (l < 0) {
        l = level_from_env();
        __atomic_store_n(&log_level, l, __ATOMIC_RELAXED);
    }
    return l;
}

int swco_log_set_level(int level)
{
    if (level < SWCO_LOG_DEBUG || level > SWCO_LOG_NONE)
        return swco__fail(-EINVAL);
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
    return 0;
}

void swco_log_set_handler(swco_log_fn fn, void *arg, swco_free_fn arg_free)
{
    pthread_mutex_lock(&log_lock);
    void *old_arg = log_arg;
    swco_free_fn old_free = log_arg_free;
    log_fn = fn;
    log_arg = fn ? arg : NULL;
    log_arg_free = fn ? arg_free : NULL;
    pthread_mutex_unlock(&log_lock);
    if (old_free)
        old_free(old_arg);
}

void swco_log_write(int level, const char *message)
{
    if (level < SWCO_LOG_DEBUG || level >= SWCO_LOG_NONE || level < swco_log_get_level())
        return;
    if (!message)
        message = "(null)";
    pthread_mutex_lock(&log_lock);
    if (log_fn)
        log_fn(level, message, log_arg);
    else
        fprintf(stderr, "swco %s: %s\n", level_names[level], message);
    pthread_mutex_unlock(&log_lock);
}

void swco__log(int level, const char *fmt, ...)
{
    if (level < swco_log_get_level())
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    swco_log_write(level, buf);
}

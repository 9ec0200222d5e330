/* Cross-thread posts: another thread queues a call for a loop and wakes it
 * through the loop's eventfd. */
#include "reactor_int.h"

#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------- cross-thread wakeups */

void swco__reactor_ref(swco__reactor_t *r) { __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED); }
void swco__reactor_unref(swco__reactor_t *r) { __atomic_sub_fetch(&r->refs, 1, __ATOMIC_RELAXED); }

int swco__reactor_post(swco__reactor_t *r, swco_fn fn, void *arg)
{
    posted_call_t *p = malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&r->post_lock);
    *r->posted_tail = p;
    r->posted_tail = &p->next;
    pthread_mutex_unlock(&r->post_lock);
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one);
    (void)n; /* EAGAIN means the counter is already non-zero: still woken */
    return 0;
}

void swco__reactor_wakeup_read(int fd, int events, void *arg)
{
    swco__reactor_t *r = arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    (void)n;
    pthread_mutex_lock(&r->post_lock);
    posted_call_t *p = r->posted;
    r->posted = NULL;
    r->posted_tail = &r->posted;
    pthread_mutex_unlock(&r->post_lock);
    while (p) {
        posted_call_t *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

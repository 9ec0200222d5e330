/* Shared by lib/process/ files. */
#ifndef SWCO_PROCESS_INT_H
#define SWCO_PROCESS_INT_H

#include "shm/shm_int.h"

#include <signal.h>

/* In a freshly forked child: default signal handlers (ignored signals stay
 * ignored), only *blocked (NULL: nothing) blocked, rand()/random()
 * re-seeded. */
void swco__process_child_init(const sigset_t *blocked);

/* fork() for a manager that keeps SIGTERM blocked (for its signalfd): the
 * child has on_term as SIGTERM handler from its first instruction, with
 * SIGTERM still blocked (one sent early is pending or noted by on_term);
 * the parent's mask and handler are restored.  Returns like fork(), errno
 * set on failure. */
pid_t swco__process_fork_term(void (*on_term)(int));

/* One System V message as msgsnd/msgrcv see it. */
struct qmsg {
    long mtype;
    char mtext[SWCO_PROCESS_MSG_MAX];
};

/* Send len bytes (at most SWCO_PROCESS_MSG_MAX) as one message of type 1,
 * retrying on EINTR.  Returns len or -errno. */
long swco__msgq_send(int msqid, const void *data, size_t len);

#endif

/* make bench: Process Pool message latency.
 *
 * For each IPC kind a pool can carry messages on (one unix datagram socket
 * pair per worker, a System V message queue), one message at a time:
 *   send -> callback  from the sender's swco_pool_send()/swco_pool_push()
 *                     to the first line of the worker's on_message callback
 *                     (CLOCK_MONOTONIC is one clock for every process);
 *   round trip        send, the worker answers, the sender has the answer
 *                     (swco_pool_reply() + swco_pool_recv() on the socket
 *                     pairs; a second System V queue for the queue, since
 *                     queue mode has no reply);
 * then the pipelined rate: messages sent back to back, until the worker
 * has handled the last; and how often an idle manager and worker wake up
 * in 2 s (their voluntary context switches: a timed wait counts each tick).
 * The peer, on the same machine in the same run, is
 * the same exchange between two plain processes with no pool: a
 * socketpair, and two System V queues, each side blocking in recv() or
 * msgrcv().  The difference is the pool's own cost per message. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <swco.h>

enum { WARM = 500, ROUNDS = 10000, PIPELINED = 50000, MSG = 64 };

typedef struct msg {
    long i;       /* round number; -1: the last of a pipelined burst */
    double sent;  /* sender's clock at the send */
    char pad[MSG - sizeof(long) - sizeof(double)];
} msg_t;

/* One System V message of MSG bytes. */
typedef struct qmsg {
    long mtype;
    msg_t m;
} qmsg_t;

/* Shared with the workers: each round's send -> callback time. */
typedef struct shared {
    double cb[WARM + ROUNDS];
    volatile long handled;
    volatile int done; /* the pipelined burst's last message was handled */
} shared_t;

static shared_t *sh;
static int reply_q = -1; /* queue mode: the worker's answers */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median and p99 of v[0..n), in microseconds */
static void stats(double *v, int n, double *med, double *p99)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    *med = v[n / 2] * 1e6;
    *p99 = v[(int)((long)n * 99 / 100)] * 1e6;
}

static void print_line(const char *what, double *cb, double *rt, int n, double rate)
{
    double cm, c99, rm, r99;
    stats(cb, n, &cm, &c99);
    stats(rt, n, &rm, &r99);
    printf("%-22s send->callback median %7.1f us  p99 %7.1f us | ", what, cm, c99);
    printf("round trip median %7.1f us  p99 %7.1f us | %8.0f msgs/s pipelined\n", rm, r99,
           rate);
    fflush(stdout);
}

/* ------------------------------------------------------------------ pool */

static void on_message(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    double t = now();
    const msg_t *m = data;
    (void)id;
    (void)arg;
    if (len != sizeof *m)
        return;
    if (m->i >= 0 && m->i < WARM + ROUNDS)
        sh->cb[m->i] = t - m->sent;
    sh->handled++;
    if (m->i == -1)
        sh->done = 1;
    if (m->i == -2)
        return; /* pipelined: no answer */
    if (reply_q >= 0) {
        qmsg_t q = {.mtype = 1, .m = *m};
        while (msgsnd(reply_q, &q, sizeof q.m, 0) < 0 && errno == EINTR)
            ;
    } else {
        swco_pool_reply(pool, m, sizeof *m);
    }
}

static void pool_send(swco_pool_t *pool, int ipc, msg_t *m)
{
    m->sent = now();
    long rc = ipc == SWCO_POOL_IPC_UNIXSOCK ? swco_pool_send(pool, 0, m, sizeof *m)
                                            : swco_pool_push(pool, m, sizeof *m);
    if (rc != (long)sizeof *m) {
        fprintf(stderr, "send: %s\n", swco_strerror((int)rc));
        exit(1);
    }
}

static void pool_answer(swco_pool_t *pool, int ipc)
{
    msg_t back;
    long rc;
    if (ipc == SWCO_POOL_IPC_UNIXSOCK) {
        rc = swco_pool_recv(pool, 0, &back, sizeof back, 10);
    } else {
        qmsg_t q;
        while ((rc = msgrcv(reply_q, &q, sizeof q.m, 0, 0)) < 0 && errno == EINTR)
            ;
    }
    if (rc != (long)sizeof back) {
        fprintf(stderr, "answer: %ld\n", rc);
        exit(1);
    }
}

/* How many times pid has gone to sleep (voluntary context switches). */
static long sleeps(int pid)
{
    char path[64], line[128];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void bench_pool(const char *what, int ipc)
{
    swco_pool_t *pool = swco_pool_new(1, ipc, 0);
    if (!pool) {
        fprintf(stderr, "pool: %s\n", swco_strerror(swco_last_error()));
        exit(1);
    }
    swco_pool_on_message(pool, on_message, NULL, NULL);
    reply_q = ipc == SWCO_POOL_IPC_MSGQUEUE ? msgget(IPC_PRIVATE, IPC_CREAT | 0600) : -1;
    memset(sh, 0, sizeof *sh);
    pid_t mgr = fork();
    if (mgr == 0)
        _exit(swco_pool_start(pool) == 0 ? 0 : 1);
    static double rt[WARM + ROUNDS];
    msg_t m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < WARM + ROUNDS; i++) {
        m.i = i;
        pool_send(pool, ipc, &m);
        pool_answer(pool, ipc);
        rt[i] = now() - m.sent;
    }
    /* Back to back: the sender blocks only while the socket or queue is full. */
    long base = sh->handled;
    double t0 = now();
    m.i = -2;
    for (int i = 0; i < PIPELINED - 1; i++)
        pool_send(pool, ipc, &m);
    m.i = -1;
    pool_send(pool, ipc, &m);
    pool_answer(pool, ipc);
    double rate = (double)(sh->handled - base) / (now() - t0);
    print_line(what, sh->cb + WARM, rt + WARM, ROUNDS, rate);
    /* An idle pool: how often do the manager and the worker wake up? */
    int wpid = swco_pool_worker_pid(pool, 0);
    long m0 = sleeps(mgr), w0 = sleeps(wpid);
    usleep(2000000);
    long m1 = sleeps(mgr), w1 = sleeps(wpid);
    printf("%-22s idle 2 s: manager woke %ld times, worker %ld times\n", what, m1 - m0, w1 - w0);
    swco_pool_shutdown(pool);
    waitpid(mgr, NULL, 0);
    swco_pool_free(pool);
    if (reply_q >= 0)
        msgctl(reply_q, IPC_RMID, NULL);
    reply_q = -1;
}

/* ------------------------------------------------------------------ peers */

static void peer_socketpair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        msg_t m;
        for (;;) {
            ssize_t n = recv(sv[1], &m, sizeof m, 0);
            if (n <= 0 || m.i == -3)
                _exit(0);
            double t = now();
            if (m.i >= 0 && m.i < WARM + ROUNDS)
                sh->cb[m.i] = t - m.sent;
            sh->handled++;
            if (m.i != -2)
                send(sv[1], &m, sizeof m, 0);
        }
    }
    close(sv[1]);
    static double rt[WARM + ROUNDS];
    msg_t m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < WARM + ROUNDS; i++) {
        m.i = i;
        m.sent = now();
        send(sv[0], &m, sizeof m, 0);
        recv(sv[0], &m, sizeof m, 0);
        rt[i] = now() - m.sent;
    }
    long base = sh->handled;
    double t0 = now();
    m.i = -2;
    for (int i = 0; i < PIPELINED - 1; i++)
        send(sv[0], &m, sizeof m, 0);
    m.i = -1;
    send(sv[0], &m, sizeof m, 0);
    recv(sv[0], &m, sizeof m, 0);
    double rate = (double)(sh->handled - base) / (now() - t0);
    print_line("socketpair, no pool", sh->cb + WARM, rt + WARM, ROUNDS, rate);
    m.i = -3; /* datagram sockets have no end of file */
    send(sv[0], &m, sizeof m, 0);
    close(sv[0]);
    waitpid(pid, NULL, 0);
}

static void peer_queues(void)
{
    int to = msgget(IPC_PRIVATE, IPC_CREAT | 0600), back = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (to < 0 || back < 0) {
        perror("msgget");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        qmsg_t q;
        for (;;) {
            if (msgrcv(to, &q, sizeof q.m, 0, 0) < 0) {
                if (errno == EINTR)
                    continue;
                _exit(0);
            }
            double t = now();
            if (q.m.i >= 0 && q.m.i < WARM + ROUNDS)
                sh->cb[q.m.i] = t - q.m.sent;
            sh->handled++;
            if (q.m.i == -3)
                _exit(0);
            if (q.m.i != -2)
                msgsnd(back, &q, sizeof q.m, 0);
        }
    }
    static double rt[WARM + ROUNDS];
    qmsg_t q = {.mtype = 1};
    for (int i = 0; i < WARM + ROUNDS; i++) {
        q.m.i = i;
        q.m.sent = now();
        msgsnd(to, &q, sizeof q.m, 0);
        msgrcv(back, &q, sizeof q.m, 0, 0);
        rt[i] = now() - q.m.sent;
    }
    long base = sh->handled;
    double t0 = now();
    q.m.i = -2;
    for (int i = 0; i < PIPELINED - 1; i++)
        msgsnd(to, &q, sizeof q.m, 0);
    q.m.i = -1;
    msgsnd(to, &q, sizeof q.m, 0);
    msgrcv(back, &q, sizeof q.m, 0, 0);
    double rate = (double)(sh->handled - base) / (now() - t0);
    print_line("SysV queues, no pool", sh->cb + WARM, rt + WARM, ROUNDS, rate);
    q.m.i = -3;
    msgsnd(to, &q, sizeof q.m, 0);
    waitpid(pid, NULL, 0);
    msgctl(to, IPC_RMID, NULL);
    msgctl(back, IPC_RMID, NULL);
}

int main(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("process pool, 1 worker, %d-byte messages, %d rounds one at a time, %d pipelined\n",
           MSG, ROUNDS, PIPELINED);
    fflush(stdout); /* not again in every forked process */
    bench_pool("pool unix socket", SWCO_POOL_IPC_UNIXSOCK);
    memset(sh, 0, sizeof *sh);
    peer_socketpair();
    bench_pool("pool message queue", SWCO_POOL_IPC_MSGQUEUE);
    memset(sh, 0, sizeof *sh);
    peer_queues();
    munmap(sh, sizeof *sh);
    return 0;
}

/* Server figures: read from the shared state every process of the server
 * updates (srv->shm), as structs or as Prometheus text exposition. */
#include "server/server_int.h"

#include <stdarg.h>
#include <stdio.h>

static int nworkers(const swco_server_t *srv)
{
    return srv->opt.worker_num + srv->opt.task_worker_num;
}

static int64_t ld64(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static int32_t ld32(const int32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

/* Running now (THREAD workers record the process's pid while they run). */
static int worker_up(const swco__srv_wshm_t *w) { return ld32(&w->pid) > 0; }

static void collect(const swco_server_t *srv, swco_server_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->size = sizeof *st;
    st->worker_num = srv->opt.worker_num;
    st->task_worker_num = srv->opt.task_worker_num;
    const swco__srv_shm_t *shm = srv->shm;
    if (!shm)
        return;
    st->start_time = shm->start_time;
    st->connection_num = ld64(&shm->connection_num);
    st->accept_count = ld64(&shm->accept_count);
    st->close_count = ld64(&shm->close_count);
    st->request_count = ld64(&shm->request_count);
    st->recv_bytes = ld64(&shm->recv_bytes);
    st->send_bytes = ld64(&shm->send_bytes);
    st->tasking_num = ld32(&shm->tasking_num);
    st->task_count = ld64(&shm->task_count);
    st->worker_restarts = ld64(&shm->worker_restarts);
    for (int i = 0; i < srv->opt.worker_num; i++) {
        const swco__srv_wshm_t *w = &shm->workers[i];
        if (worker_up(w) && ld32(&w->busy) == 0)
            st->idle_worker_num++;
    }
}

static void collect_worker(const swco_server_t *srv, int id, swco_server_worker_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->size = sizeof *st;
    st->worker_id = id;
    st->is_task_worker = id >= srv->opt.worker_num;
    if (!srv->shm)
        return;
    const swco__srv_wshm_t *w = &srv->shm->workers[id];
    st->pid = ld32(&w->pid);
    st->busy = ld32(&w->busy) > 0;
    st->start_time = w->start_time;
    st->request_count = ld64(&w->request_count);
    st->total_requests = ld64(&w->total_requests);
    st->connection_num = ld64(&w->connection_num);
    st->coroutine_num = ld64(&w->coroutine_num);
}

int swco_server_stats(const swco_server_t *srv, swco_server_stats_t *st)
{
    if (!srv || !st || st->size < sizeof(size_t))
        return swco__fail(-EINVAL);
    swco_server_stats_t full;
    collect(srv, &full);
    swco__struct_fill(st, &full, sizeof full);
    return 0;
}

int swco_server_worker_stats(const swco_server_t *srv, int worker_id,
                             swco_server_worker_stats_t *st)
{
    if (!srv || !st || st->size < sizeof(size_t) || worker_id < 0 || worker_id >= nworkers(srv))
        return swco__fail(-EINVAL);
    swco_server_worker_stats_t full;
    collect_worker(srv, worker_id, &full);
    swco__struct_fill(st, &full, sizeof full);
    return 0;
}

/* ----------------------------------------------------------- Prometheus */

typedef struct text {
    char *out;
    size_t cap, len;
    int overflow;
} text_t;

__attribute__((format(printf, 2, 3))) static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(room ? t->out + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        t->overflow = 1;
    t->len += n > 0 ? (size_t)n : 0;
}

static void head(text_t *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP swco_server_%s %s\n# TYPE swco_server_%s %s\n", name, help, name, type);
}

static void metric_i(text_t *t, const char *name, const char *type, const char *help,
                     long long v)
{
    head(t, name, type, help);
    put(t, "swco_server_%s %lld\n", name, v);
}

/* A per-worker metric: one sample per worker id, by the field at off. */
typedef long long (*wfield_fn)(const swco_server_worker_stats_t *w);
static long long f_busy(const swco_server_worker_stats_t *w) { return w->busy; }
static long long f_up(const swco_server_worker_stats_t *w) { return w->pid > 0; }
static long long f_total(const swco_server_worker_stats_t *w) { return w->total_requests; }
static long long f_conns(const swco_server_worker_stats_t *w) { return w->connection_num; }
static long long f_coros(const swco_server_worker_stats_t *w) { return w->coroutine_num; }

static void per_worker(text_t *t, const swco_server_worker_stats_t *ws, int n, const char *name,
                       const char *type, const char *help, wfield_fn f)
{
    head(t, name, type, help);
    for (int i = 0; i < n; i++)
        put(t, "swco_server_%s{worker=\"%d\",type=\"%s\"} %lld\n", name, i,
            ws[i].is_task_worker ? "task" : "event", f(&ws[i]));
}

long swco_server_stats_prometheus(const swco_server_t *srv, char *out, size_t out_len)
{
    if (!srv || (!out && out_len))
        return swco__fail(-EINVAL);
    swco_server_stats_t st;
    collect(srv, &st);
    int n = nworkers(srv);
    swco_server_worker_stats_t *ws = calloc(n > 0 ? (size_t)n : 1, sizeof *ws);
    if (!ws)
        return swco__fail(-ENOMEM);
    for (int i = 0; i < n; i++)
        collect_worker(srv, i, &ws[i]);
    text_t t = {out, out_len, 0, 0};
    head(&t, "start_time_seconds", "gauge", "Wall clock time the server started, in seconds since the epoch.");
    put(&t, "swco_server_start_time_seconds %.3f\n", st.start_time);
    metric_i(&t, "connections", "gauge", "Open connections.", st.connection_num);
    metric_i(&t, "accepted_connections_total", "counter", "Connections accepted.", st.accept_count);
    metric_i(&t, "closed_connections_total", "counter", "Connections closed.", st.close_count);
    metric_i(&t, "requests_total", "counter", "Receive and packet callbacks run, all workers.",
             st.request_count);
    metric_i(&t, "received_bytes_total", "counter", "Bytes received from clients.", st.recv_bytes);
    metric_i(&t, "sent_bytes_total", "counter", "Bytes sent to clients.", st.send_bytes);
    metric_i(&t, "workers", "gauge", "Event workers configured.", st.worker_num);
    metric_i(&t, "idle_workers", "gauge", "Event workers with nothing in progress.",
             st.idle_worker_num);
    metric_i(&t, "task_workers", "gauge", "Task workers configured.", st.task_worker_num);
    metric_i(&t, "tasks_in_progress", "gauge", "Tasks queued or running.", st.tasking_num);
    metric_i(&t, "tasks_total", "counter", "Tasks finished.", st.task_count);
    metric_i(&t, "worker_restarts_total", "counter", "Workers the manager started again.",
             st.worker_restarts);
    per_worker(&t, ws, n, "worker_up", "gauge", "Whether the worker is running.", f_up);
    per_worker(&t, ws, n, "worker_busy", "gauge", "Whether the worker has a request or task in progress.", f_busy);
    per_worker(&t, ws, n, "worker_requests_total", "counter",
               "Requests or tasks handled by every incarnation of the worker.", f_total);
    per_worker(&t, ws, n, "worker_connections", "gauge", "Connections the worker owns.", f_conns);
    per_worker(&t, ws, n, "worker_coroutines", "gauge", "Coroutines running in the worker.", f_coros);
    free(ws);
    if (t.overflow || t.len + 1 > out_len)
        return swco__fail(-ERANGE);
    return (long)t.len;
}

/* 200 concurrent GETs to a local server (the tests' coroutine httpd in a
 * child process), three ways from the same run:
 *   swco_curl_perform in 200 coroutines of one thread,
 *   the same 200 easy handles driven by a plain curl_multi_perform /
 *   curl_multi_poll loop in C,
 *   sequential curl_easy_perform (one round).
 * Each way runs ROUNDS rounds on the same handles (keep-alive connections,
 * as a long-running client would have) after a warm-up round.  The path is
 * argv[1] (default /hello; /delay/20 adds server latency); argv[2] "swco"
 * or "multi" runs only that way (for a profiler), argv[3] how many
 * interleaved runs the best is taken of (default 5; 1 under callgrind). */
#include "httpd.h"

#include <sys/resource.h>
#include <time.h>

#include <swco/curl.h>

#define N 200
#define ROUNDS 50

static CURL *easy[N];
static char url[128];
static int failures;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process (not the server) used so far. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t sink(char *p, size_t s, size_t n, void *arg) { return s * n; }

static void make_handles(void)
{
    for (int i = 0; i < N; i++) {
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, url);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
    }
}

static void free_handles(void)
{
    for (int i = 0; i < N; i++)
        curl_easy_cleanup(easy[i]);
}

/* ------------------------------------------------------------ swco */

/* 200 long-lived coroutines, each doing its transfers back to back, so
 * 200 are in flight at any time (coroutine creation is not measured). */
static swco_waitgroup_t *wg;
static int rounds_todo;

static void worker(void *arg)
{
    for (int r = 0; r < rounds_todo; r++)
        if (swco_curl_perform((CURL *)arg) != CURLE_OK)
            failures++;
    swco_waitgroup_done(wg);
}

static void swco_rounds(int rounds)
{
    rounds_todo = rounds;
    swco_waitgroup_add(wg, N);
    for (int i = 0; i < N; i++)
        swco_coroutine_create(worker, easy[i]);
    swco_waitgroup_wait(wg, -1);
}

static double swco_time, swco_cpu, multi_cpu;

static void swco_main(void *arg)
{
    wg = swco_waitgroup_new();
    swco_rounds(1); /* warm-up: connections */
    double t0 = now(), c0 = cpu();
    swco_rounds(ROUNDS);
    swco_time = now() - t0;
    swco_cpu = cpu() - c0;
    swco_waitgroup_free(wg);
}

static double run_swco(void)
{
    make_handles();
    swco_run(swco_main, NULL);
    free_handles();
    swco_curl_cleanup();
    return swco_time;
}

/* ------------------------------------------------------ plain multi */

/* The same: each handle is added again as soon as it finishes, until it
 * has done its rounds. */
static void multi_rounds(CURLM *m, int rounds)
{
    int done[N] = {0};
    for (int i = 0; i < N; i++) {
        curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (void *)(long)i);
        curl_multi_add_handle(m, easy[i]);
    }
    int running = 1, active = N;
    while (active > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            if (msg->data.result != CURLE_OK)
                failures++;
            CURL *e = msg->easy_handle;
            char *priv;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
            long i = (long)priv;
            curl_multi_remove_handle(m, e);
            if (++done[i] < rounds)
                curl_multi_add_handle(m, e);
            else
                active--;
        }
        if (active > 0 && running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
}

static double run_multi(void)
{
    make_handles();
    CURLM *m = curl_multi_init();
    multi_rounds(m, 1);
    double t0 = now(), c0 = cpu();
    multi_rounds(m, ROUNDS);
    double dt = now() - t0;
    multi_cpu = cpu() - c0;
    curl_multi_cleanup(m);
    free_handles();
    return dt;
}

/* ------------------------------------------------------- sequential */

/* One round only: at ROUNDS rounds a path with a delay would take minutes. */
static double run_seq(void)
{
    make_handles();
    for (int i = 0; i < N; i++)
        curl_easy_perform(easy[i]);
    double t0 = now();
    for (int i = 0; i < N; i++)
        if (curl_easy_perform(easy[i]) != CURLE_OK)
            failures++;
    double dt = now() - t0;
    free_handles();
    return dt;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/hello";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = httpd_start();
    if (port < 0) {
        perror("httpd");
        return 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    const char *only = argc > 2 ? argv[2] : ""; /* "swco" or "multi": profile one */
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    double best_swco = 1e9, best_multi = 1e9, cpu_swco = 1e9, cpu_multi = 1e9, seq = 0;
    for (int k = 0; k < (runs > 0 ? runs : 5); k++) { /* interleaved, best of them */
        double a = strcmp(only, "multi") ? run_swco() : 0;
        double b = strcmp(only, "swco") ? run_multi() : 0;
        if (a < best_swco)
            best_swco = a;
        if (b < best_multi)
            best_multi = b;
        if (swco_cpu < cpu_swco)
            cpu_swco = swco_cpu;
        if (multi_cpu < cpu_multi)
            cpu_multi = multi_cpu;
    }
    if (!*only)
        seq = run_seq();
    httpd_stop();
    curl_global_cleanup();
    double reqs = (double)N * ROUNDS;
    printf("curl %d concurrent GETs %s x %d rounds: swco_curl_perform %.3f s (%.0f req/s)\n", N,
           path, ROUNDS, best_swco, reqs / best_swco);
    printf("curl %d concurrent GETs %s x %d rounds: plain curl_multi loop %.3f s (%.0f req/s)\n", N,
           path, ROUNDS, best_multi, reqs / best_multi);
    printf("curl %d GETs %s x 1 round: sequential curl_easy_perform %.3f s (%.0f req/s)\n", N,
           path, seq, N / seq);
    printf("curl swco_curl_perform / curl_multi loop: wall time ratio %.2f, client CPU %.3f s / %.3f s "
           "(ratio %.2f)\n",
           best_swco / best_multi, cpu_swco, cpu_multi, cpu_swco / cpu_multi);
    if (failures)
        printf("curl: %d transfers failed\n", failures);
    return failures != 0;
}

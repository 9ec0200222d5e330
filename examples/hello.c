/* hello.c: coroutines, a channel and a WaitGroup.
 * Build against an installed libswco with:
 *   cc hello.c $(pkg-config --cflags --libs swco) -o hello */
#include <stdio.h>
#include <swco.h>

static swco_channel_t *results;
static swco_waitgroup_t *wg;

static void worker(void *arg)
{
    long n = (long)arg;
    swco_sleep(0.1 * (double)n);               /* yields: the others run meanwhile */
    swco_channel_push(results, (void *)(n * n), -1);
    swco_waitgroup_done(wg);
}

static void main_co(void *arg)
{
    results = swco_channel_new(8);
    wg = swco_waitgroup_new();
    for (long n = 3; n >= 1; n--) {
        swco_waitgroup_add(wg, 1);
        swco_coroutine_create(worker, (void *)n);
    }
    swco_waitgroup_wait(wg, -1);               /* about 0.3 s in all, not 0.6 s */
    for (int i = 0; i < 3; i++) {
        void *v;
        swco_channel_pop(results, &v, -1);
        printf("square %ld\n", (long)v);       /* 1, 4, 9: the shortest sleep first */
    }
    swco_channel_free(results);
    swco_waitgroup_free(wg);
}

int main(void)
{
    printf("libswco %s\n", swco_version_string());
    int rc = swco_run(main_co, NULL);
    if (rc != 0) {
        fprintf(stderr, "swco_run: %s\n", swco_strerror(rc));
        return 1;
    }
    return 0;
}

/* channel_pipeline.c: a producer, a squarer and a printer connected by
 * unbuffered channels, Go style; closing a channel ends the stage after it. */
#include <stdio.h>
#include <swco.h>

typedef struct stage {
    swco_channel_t *in, *out;
} stage_t;

static void producer(void *arg)
{
    swco_channel_t *out = arg;
    for (long i = 1; i <= 5; i++)
        swco_channel_push(out, (void *)i, -1);
    swco_channel_close(out);
}

static void squarer(void *arg)
{
    stage_t *s = arg;
    void *v;
    while (swco_channel_pop(s->in, &v, -1) == 0)
        swco_channel_push(s->out, (void *)((long)v * (long)v), -1);
    swco_channel_close(s->out);
}

static void main_co(void *arg)
{
    swco_channel_t *numbers = swco_channel_new(0);
    swco_channel_t *squares = swco_channel_new(0);
    stage_t s = {numbers, squares};
    swco_coroutine_create(producer, numbers);
    swco_coroutine_create(squarer, &s);
    void *v;
    long sum = 0;
    while (swco_channel_pop(squares, &v, -1) == 0) {
        printf("%ld\n", (long)v);
        sum += (long)v;
    }
    printf("sum %ld\n", sum);
    swco_channel_free(numbers);
    swco_channel_free(squares);
    *(int *)arg = sum == 55 ? 0 : 1;
}

int main(void)
{
    int status = 1;
    int rc = swco_run(main_co, &status);
    return rc == 0 ? status : 1;
}

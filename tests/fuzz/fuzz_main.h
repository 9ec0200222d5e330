/* What every fuzz target's own main() shares (the main() that make check
 * runs when the target is built without libFuzzer): running the corpus
 * files named on the command line, and a small pseudo-random generator for
 * the fixed extra inputs each target makes up. */
#ifndef SWCO_FUZZ_MAIN_H
#define SWCO_FUZZ_MAIN_H

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed each file (up to 1 MiB of it) to the target: 0, or 1 when a file
 * cannot be read. */
__attribute__((unused)) static int fuzz_run_files(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        if (!fp) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}

/* xorshift64: the next value of *x (which must not start at 0). */
static inline uint64_t fuzz_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Fill buf[0..n) with the next n steps of *x, one byte of each. */
static inline void fuzz_fill(uint8_t *buf, size_t n, uint64_t *x)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(fuzz_next(x) >> 24);
}

#endif

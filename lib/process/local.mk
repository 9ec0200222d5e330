# ------------------------------------------------------------- process
swcoinclude_HEADERS += include/swco/process.h
libswco_la_SOURCES += lib/process/process.c

if HAVE_CHECK
process_tests = tests/check_process
check_PROGRAMS += $(process_tests)
TESTS += $(process_tests)
endif
tests_check_process_SOURCES = tests/check_process.c
tests_check_process_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_process_CFLAGS = $(TEST_CFLAGS)
tests_check_process_LDADD = $(TEST_LIBS)

swcoinclude_HEADERS += include/swco/pool.h
noinst_HEADERS += lib/process/process_int.h lib/process/pool_msg.h
libswco_la_SOURCES += lib/process/pool.c lib/process/pool_msg.c
if HAVE_CHECK
check_PROGRAMS += tests/check_pool
TESTS += tests/check_pool
endif
tests_check_pool_SOURCES = tests/check_pool.c
tests_check_pool_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pool_CFLAGS = $(TEST_CFLAGS)
tests_check_pool_LDADD = $(TEST_LIBS)

# Fuzz target for the pool's socket-mode message reader; make check runs it
# over its corpus.
tests_fuzz_fuzz_pool_SOURCES = tests/fuzz/fuzz_pool.c lib/process/pool_msg.c
tests_fuzz_fuzz_pool_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_pool_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_pool
TESTS += tests/fuzz/run-pool.sh
EXTRA_DIST += tests/fuzz/run-pool.sh tests/fuzz/corpus/pool

# make bench: Process Pool message latency (send -> worker callback, round
# trip, pipelined rate) over its unix sockets and its message queue, beside
# the same exchange between two plain processes.
bench_bench_pool_SOURCES = bench/bench_pool.c
bench_bench_pool_CPPFLAGS = $(EXAMPLE_CPPFLAGS) -D_GNU_SOURCE
bench_bench_pool_CFLAGS = $(SWCO_CFLAGS) -O2
bench_bench_pool_LDADD = libswco.la
EXTRA_PROGRAMS += bench/bench_pool
BENCHES += bench/bench_pool

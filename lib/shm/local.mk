# ------------------------------------------------------------------ shm
swcoinclude_HEADERS += include/swco/table.h include/swco/atomic.h include/swco/lock.h
noinst_HEADERS += lib/shm/shm_int.h lib/shm/table_int.h
libswco_la_SOURCES += lib/shm/table.c lib/shm/table_hdr.c lib/shm/atomic.c lib/shm/lock.c

if HAVE_CHECK
shm_tests = tests/check_table tests/check_atomic tests/check_lock
check_PROGRAMS += $(shm_tests)
TESTS += $(shm_tests)
endif
tests_check_table_SOURCES = tests/check_table.c
tests_check_atomic_SOURCES = tests/check_atomic.c
tests_check_lock_SOURCES = tests/check_lock.c
tests_check_table_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/shm
tests_check_atomic_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_lock_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_table_CFLAGS = $(TEST_CFLAGS)
tests_check_atomic_CFLAGS = $(TEST_CFLAGS)
tests_check_lock_CFLAGS = $(TEST_CFLAGS)
tests_check_table_LDADD = $(TEST_LIBS)
tests_check_atomic_LDADD = $(TEST_LIBS)
tests_check_lock_LDADD = $(TEST_LIBS)

bench_bench_shm_SOURCES = bench/bench_shm.c
bench_bench_shm_CPPFLAGS = $(EXAMPLE_CPPFLAGS) -D_GNU_SOURCE
bench_bench_shm_CFLAGS = $(SWCO_CFLAGS) -O2
bench_bench_shm_LDADD = libswco.la -lm
EXTRA_PROGRAMS += bench/bench_shm
BENCHES += bench/bench_shm

# Fuzz target for the check of a table header another process wrote;
# make check runs it over its corpus.
tests_fuzz_fuzz_table_SOURCES = tests/fuzz/fuzz_table.c
tests_fuzz_fuzz_table_LDADD = libswco_core.la
tests_fuzz_fuzz_table_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_table_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_table
TESTS += tests/fuzz/run-table.sh
EXTRA_DIST += tests/fuzz/run-table.sh tests/fuzz/corpus/table

# Fuzz target for calls on a table whose memory another process corrupted
# (table.c compiled in, the rest of the library stubbed).
tests_fuzz_fuzz_table_ops_SOURCES = tests/fuzz/fuzz_table_ops.c lib/shm/table.c lib/shm/table_hdr.c
tests_fuzz_fuzz_table_ops_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_table_ops_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_table_ops
TESTS += tests/fuzz/run-table-ops.sh
EXTRA_DIST += tests/fuzz/run-table-ops.sh tests/fuzz/corpus/table-ops

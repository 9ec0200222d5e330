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
noinst_HEADERS += lib/process/process_int.h
libswco_la_SOURCES += lib/process/pool.c
if HAVE_CHECK
check_PROGRAMS += tests/check_pool
TESTS += tests/check_pool
endif
tests_check_pool_SOURCES = tests/check_pool.c
tests_check_pool_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_pool_CFLAGS = $(TEST_CFLAGS)
tests_check_pool_LDADD = $(TEST_LIBS)

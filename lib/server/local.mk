# -------------------------------------------------------------- server
# TCP/UDP/Unix servers: BASE, PROCESS and THREAD modes, task workers.
# lib/server/server_int.h names which file owns what.
swcoinclude_HEADERS += include/swco/server.h
noinst_HEADERS += lib/server/server_int.h
libswco_la_SOURCES += lib/server/server.c lib/server/options.c lib/server/stats.c \
	lib/server/deliver.c lib/server/base.c
libswco_la_SOURCES += lib/server/conn.c lib/server/engine.c
libswco_la_SOURCES += lib/server/process.c
libswco_la_SOURCES += lib/server/manager.c lib/server/task.c
libswco_la_SOURCES += lib/server/proxy.c

# ---- tests: server object, options, BASE and THREAD modes (server.c ...)
# Real peers on loopback: python3, nc (netcat-openbsd), socat.
if HAVE_CHECK
check_PROGRAMS += tests/check_server
TESTS += tests/check_server
endif
tests_check_server_SOURCES = tests/check_server.c
tests_check_server_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_server_CFLAGS = $(TEST_CFLAGS)
tests_check_server_LDADD = $(TEST_LIBS)
EXTRA_DIST += doc/server.md

# ---- tests: the engine on its own (conn.c, engine.c)
if HAVE_CHECK
check_PROGRAMS += tests/check_server_engine
TESTS += tests/check_server_engine
endif
tests_check_server_engine_SOURCES = tests/check_server_engine.c
tests_check_server_engine_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_builddir)
tests_check_server_engine_CFLAGS = $(TEST_CFLAGS)
tests_check_server_engine_LDADD = $(TEST_CORE_LIBS)

# ---- tests: PROCESS mode (process.c)
noinst_HEADERS += lib/server/process_int.h
libswco_la_SOURCES += lib/server/process_ipc.c
# check_server_process: the IPC pieces (internals: linked statically) and
# the PROCESS mode server driven by real peers on loopback.
if HAVE_CHECK
check_PROGRAMS += tests/check_server_process
TESTS += tests/check_server_process
endif
tests_check_server_process_SOURCES = tests/check_server_process.c
tests_check_server_process_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib
tests_check_server_process_CFLAGS = $(TEST_CFLAGS)
tests_check_server_process_LDADD = $(TEST_CORE_LIBS) -lpthread

# ---- tests: manager, task workers, reload, shutdown (manager.c, task.c)
if HAVE_CHECK
check_PROGRAMS += tests/check_server_task
TESTS += tests/check_server_task
endif
tests_check_server_task_SOURCES = tests/check_server_task.c
tests_check_server_task_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_server_task_CFLAGS = $(TEST_CFLAGS)
tests_check_server_task_LDADD = $(TEST_LIBS)

# ---- tests: PROXY protocol, fuzz target (proxy.c)
# The parser is internal: the suite links the library statically.
if HAVE_CHECK
check_PROGRAMS += tests/check_server_proxy
TESTS += tests/check_server_proxy
endif
tests_check_server_proxy_SOURCES = tests/check_server_proxy.c
tests_check_server_proxy_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_builddir)
tests_check_server_proxy_CFLAGS = $(TEST_CFLAGS)
tests_check_server_proxy_LDADD = $(TEST_CORE_LIBS)

# Fuzz target for the PROXY header parser; make check runs it over its
# corpus (tools/fuzz proxy SECONDS fuzzes it with libFuzzer).
tests_fuzz_fuzz_proxy_SOURCES = tests/fuzz/fuzz_proxy.c
tests_fuzz_fuzz_proxy_LDADD = libswco_core.la
tests_fuzz_fuzz_proxy_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_proxy_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_proxy
TESTS += tests/fuzz/run-proxy.sh
EXTRA_DIST += tests/fuzz/run-proxy.sh tests/fuzz/corpus/proxy

# ---- examples and benches (examples/tcp_echo_server.c, bench/bench_server.c)
# The echo server benches and checks run (built by make: the benches use
# it); tests/check-tcp-echo-server.sh runs it in each mode.
noinst_PROGRAMS = examples/tcp_echo_server
examples_tcp_echo_server_SOURCES = examples/tcp_echo_server.c
examples_tcp_echo_server_CPPFLAGS = $(EXAMPLE_CPPFLAGS)
examples_tcp_echo_server_LDADD = libswco.la
TESTS += tests/check-tcp-echo-server.sh
EXTRA_DIST += tests/check-tcp-echo-server.sh

# make bench: tcp_echo_server's echo rate in each mode beside Go's net
# (bench/peers/echo.go), and the cost of 10,000 idle connections beside
# nginx's stream module (bench/peers/nginx-stream.conf), in one run.
bench_bench_server_SOURCES = bench/bench_server.c
bench_bench_server_CPPFLAGS = $(EXAMPLE_CPPFLAGS) -D_GNU_SOURCE \
	-DBENCH_PEERS_DIR='"$(abs_top_srcdir)/bench/peers"'
bench_bench_server_CFLAGS = $(SWCO_CFLAGS) -O2
EXTRA_bench_bench_server_DEPENDENCIES = examples/tcp_echo_server$(EXEEXT)
EXTRA_PROGRAMS += bench/bench_server
BENCHES += bench/bench_server
EXTRA_DIST += bench/peers/echo.go bench/peers/nginx-stream.conf

# ---- end of lib/server/local.mk

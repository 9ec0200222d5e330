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

# ---- tests: the engine on its own (conn.c, engine.c)

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

# ---- tests: PROXY protocol, fuzz target (proxy.c)

# ---- examples and benches (examples/tcp_echo_server.c, bench/bench_server.c)

# ---- end of lib/server/local.mk

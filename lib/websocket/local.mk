# ---------------------------------------------------------------- websocket
# WebSocket servers and clients (swco/websocket.h).
swcoinclude_HEADERS += include/swco/websocket.h
noinst_HEADERS += lib/websocket/ws_int.h
libswco_la_SOURCES += lib/websocket/frame.c lib/websocket/deflate.c \
	lib/websocket/server.c lib/websocket/client.c
EXTRA_DIST += doc/websocket.md

# ---- tests: the codec and deflate (internal: linked statically), the
# server with python3-websockets peers and the client (check_websocket.c)
if HAVE_CHECK
check_PROGRAMS += tests/check_websocket
TESTS += tests/check_websocket
endif
tests_check_websocket_SOURCES = tests/check_websocket.c
tests_check_websocket_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_builddir) $(ZLIB_CFLAGS)
tests_check_websocket_CFLAGS = $(TEST_CFLAGS)
tests_check_websocket_LDADD = $(TEST_CORE_LIBS)

# Fuzz target for the frame reader (server and client side, with and
# without permessage-deflate); make check runs it over its corpus
# (tools/fuzz ws SECONDS fuzzes it with libFuzzer).
tests_fuzz_fuzz_ws_SOURCES = tests/fuzz/fuzz_ws.c
tests_fuzz_fuzz_ws_LDADD = libswco_core.la
tests_fuzz_fuzz_ws_CPPFLAGS = $(AM_CPPFLAGS) $(ZLIB_CFLAGS)
tests_fuzz_fuzz_ws_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_ws
TESTS += tests/fuzz/run-ws.sh
EXTRA_DIST += tests/fuzz/run-ws.sh tests/fuzz/corpus/ws

# ---- end of lib/websocket/local.mk

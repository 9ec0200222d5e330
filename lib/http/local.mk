# ---------------------------------------------------------------- http
# HTTP/1.1 servers (swco/http.h).  lib/http/http_int.h names which file
# owns what; each helper adds Makefile lines only inside its own section.
swcoinclude_HEADERS += include/swco/http.h
noinst_HEADERS += lib/http/http_int.h
libswco_la_CFLAGS += $(LLHTTP_CFLAGS) $(ZLIB_CFLAGS) $(BROTLI_CFLAGS)
libswco_la_LIBADD += $(LLHTTP_LIBS) $(ZLIB_LIBS) $(BROTLI_LIBS)
libswco_la_SOURCES += lib/server/protocol.c lib/http/util.c \
	lib/http/llhttp_api.c lib/http/llhttp_http.c lib/http/llhttp_llhttp.c

# ---- h1: h1.c, request.c, response.c
libswco_la_SOURCES += lib/http/h1.c lib/http/request.c lib/http/response.c

# The HTTP/1 server with real peers (curl, python3 http.client, raw sockets).
if HAVE_CHECK
check_PROGRAMS += tests/check_http
TESTS += tests/check_http
endif
tests_check_http_SOURCES = tests/check_http.c
tests_check_http_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_http_CFLAGS = $(TEST_CFLAGS)
tests_check_http_LDADD = $(TEST_LIBS)

# Fuzz target for the HTTP/1 glue (smuggling cases, chunked bodies,
# pipelining); make check runs it over its corpus (tools/fuzz http SECONDS
# fuzzes it with libFuzzer).
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_LDADD = libswco_core.la
tests_fuzz_fuzz_http_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_http_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_http
TESTS += tests/fuzz/run-http.sh
EXTRA_DIST += tests/fuzz/run-http.sh tests/fuzz/corpus/http doc/http.md

# ---- body: form.c, multipart.c
libswco_la_SOURCES += lib/http/form.c lib/http/multipart.c
# check_http_body: the parsers driven directly (internals: the library
# linked statically).
if HAVE_CHECK
check_PROGRAMS += tests/check_http_body
TESTS += tests/check_http_body
endif
tests_check_http_body_SOURCES = tests/check_http_body.c
tests_check_http_body_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_builddir)
tests_check_http_body_CFLAGS = $(TEST_CFLAGS)
tests_check_http_body_LDADD = $(TEST_CORE_LIBS)
# Fuzz target for request bodies (multipart, urlencoded, cookies); make
# check runs it over its corpus (tools/fuzz multipart SECONDS fuzzes it
# with libFuzzer).
tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c
tests_fuzz_fuzz_multipart_LDADD = libswco_core.la
tests_fuzz_fuzz_multipart_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_multipart_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_multipart
TESTS += tests/fuzz/run-multipart.sh
EXTRA_DIST += tests/fuzz/run-multipart.sh tests/fuzz/corpus/multipart
# The differential test: raw requests to our server (http_diff_server)
# and to nginx on loopback, same verdicts and parses.
check_PROGRAMS += tests/http_diff_server
tests_http_diff_server_SOURCES = tests/http_diff_server.c
tests_http_diff_server_CPPFLAGS = $(TEST_CPPFLAGS)
tests_http_diff_server_CFLAGS = $(SWCO_CFLAGS)
tests_http_diff_server_LDADD = libswco.la
TESTS += tests/check-http-diff.sh
EXTRA_DIST += tests/check-http-diff.sh

# ---- static: static.c, compress.c
libswco_la_SOURCES += lib/http/static.c lib/http/compress.c

# Unit tests of the encoders, negotiation and MIME table, and end-to-end
# static files and compression with curl; the internals need the static
# library.
if HAVE_CHECK
check_PROGRAMS += tests/check_http_static
TESTS += tests/check_http_static
endif
tests_check_http_static_SOURCES = tests/check_http_static.c
tests_check_http_static_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_builddir)
tests_check_http_static_CFLAGS = $(TEST_CFLAGS) $(ZLIB_CFLAGS) $(BROTLI_CFLAGS)
tests_check_http_static_LDADD = $(TEST_CORE_LIBS) $(ZLIB_LIBS) $(BROTLI_LIBS)

# ---- pyhttp: examples/http_hello.c, its checks and bench, the Chromium test
# http_hello is built by make (the benches and tests run it).
noinst_PROGRAMS += examples/http_hello
examples_http_hello_SOURCES = examples/http_hello.c
examples_http_hello_CPPFLAGS = $(EXAMPLE_CPPFLAGS)
examples_http_hello_LDADD = libswco.la
# Real peers on loopback: curl, python3 http.client, ab, wrk.
TESTS += tests/check-http-hello.sh
EXTRA_DIST += tests/check-http-hello.sh
# Headless Chromium (chromedriver) loads tests/http-chromium.html from
# http_hello and exchanges 1,000 WebSocket messages with its /ws.
TESTS += tests/check-http-chromium.sh
EXTRA_DIST += tests/check-http-chromium.sh tests/http-chromium.html

# make bench: http_hello beside nginx and h2o (wrk keep-alive with 1 and 2
# workers, ab without keep-alive), WebSocket echo beside Node's ws.
bench_bench_http_SOURCES = bench/bench_http.c
bench_bench_http_CPPFLAGS = $(EXAMPLE_CPPFLAGS) -D_GNU_SOURCE \
	-DBENCH_PEERS_DIR='"$(abs_top_srcdir)/bench/peers"'
bench_bench_http_CFLAGS = $(SWCO_CFLAGS) -O2
EXTRA_bench_bench_http_DEPENDENCIES = examples/http_hello$(EXEEXT)
EXTRA_PROGRAMS += bench/bench_http
BENCHES += bench/bench_http
EXTRA_DIST += bench/peers/nginx-http.conf bench/peers/h2o.conf bench/peers/ws-echo.js

# ---- end of lib/http/local.mk

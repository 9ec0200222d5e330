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

# ---- static: static.c, compress.c
libswco_la_SOURCES += lib/http/static.c lib/http/compress.c

# ---- end of lib/http/local.mk

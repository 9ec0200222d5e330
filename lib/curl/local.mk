# ---------------------------------------------------------------- curl
# swco_curl_perform: libcurl transfers that yield the calling coroutine.
swcoinclude_HEADERS += include/swco/curl.h include/swco/http_client.h
libswco_la_SOURCES += lib/curl/curl.c lib/curl/http_client.c
noinst_HEADERS += tests/httpd.h

if HAVE_CHECK
check_PROGRAMS += tests/check_curl
TESTS += tests/check_curl
endif
tests_check_curl_SOURCES = tests/check_curl.c
tests_check_curl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_curl_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS) $(NGHTTP2_CFLAGS)
tests_check_curl_LDADD = $(TEST_LIBS) $(CURL_LIBS) $(NGHTTP2_LIBS)

# swco_http_client against a python3 http.server peer started by the test.
if HAVE_CHECK
check_PROGRAMS += tests/check_http_client
TESTS += tests/check_http_client
endif
tests_check_http_client_SOURCES = tests/check_http_client.c
tests_check_http_client_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_http_client_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_check_http_client_LDADD = $(TEST_LIBS) $(CURL_LIBS)

# make bench: swco_curl_perform beside a plain curl_multi loop and
# sequential curl_easy_perform, 200 concurrent GETs to a local server.
bench_bench_curl_SOURCES = bench/bench_curl.c
bench_bench_curl_CPPFLAGS = $(EXAMPLE_CPPFLAGS) -I$(top_srcdir)/tests -D_GNU_SOURCE
bench_bench_curl_CFLAGS = $(SWCO_CFLAGS) $(CURL_CFLAGS) -O2
bench_bench_curl_LDADD = libswco.la $(CURL_LIBS) -lm
EXTRA_PROGRAMS += bench/bench_curl
BENCHES += bench/bench_curl

# ------------------------------------------------------------------ io
# Coroutine sockets, framing, TLS, the AIO thread pool, DNS, files, exec.
swcoinclude_HEADERS += include/swco/aio.h include/swco/dns.h include/swco/socket.h \
	include/swco/file.h include/swco/exec.h include/swco/ssl.h
noinst_HEADERS += lib/io/io_int.h
libswco_la_SOURCES += lib/io/aio.c lib/io/dns.c lib/io/framing.c lib/io/socket.c lib/io/ssl.c \
	lib/io/file.c lib/io/exec.c
libswco_la_SOURCES += lib/io/alpn.c

if HAVE_CHECK
io_tests = tests/check_aio
check_PROGRAMS += $(io_tests)
TESTS += $(io_tests)
endif
tests_check_aio_SOURCES = tests/check_aio.c
tests_check_aio_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_aio_CFLAGS = $(TEST_CFLAGS)
tests_check_aio_LDADD = $(TEST_LIBS)
if HAVE_CHECK
io_tests += tests/check_socket
endif
tests_check_socket_SOURCES = tests/check_socket.c
tests_check_socket_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_socket_CFLAGS = $(TEST_CFLAGS)
tests_check_socket_LDADD = $(TEST_LIBS)
if HAVE_CHECK
io_tests += tests/check_dns
endif
tests_check_dns_SOURCES = tests/check_dns.c
tests_check_dns_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_dns_CFLAGS = $(TEST_CFLAGS)
tests_check_dns_LDADD = $(TEST_LIBS)
if HAVE_CHECK
io_tests += tests/check_file
endif
tests_check_file_SOURCES = tests/check_file.c
tests_check_file_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_file_CFLAGS = $(TEST_CFLAGS)
tests_check_file_LDADD = $(TEST_LIBS)
if HAVE_CHECK
io_tests += tests/check_exec
endif
tests_check_exec_SOURCES = tests/check_exec.c
tests_check_exec_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_exec_CFLAGS = $(TEST_CFLAGS)
tests_check_exec_LDADD = $(TEST_LIBS)
if HAVE_CHECK
io_tests += tests/check_ssl
endif
tests_check_ssl_SOURCES = tests/check_ssl.c
tests_check_ssl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_ssl_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_check_ssl_LDADD = $(TEST_LIBS) $(CURL_LIBS)

# make bench: loopback round trips beside Go's (bench/peers/bench_socket.sh).
bench_bench_socket_SOURCES = bench/bench_socket.c
bench_bench_socket_CPPFLAGS = $(EXAMPLE_CPPFLAGS)
bench_bench_socket_CFLAGS = $(SWCO_CFLAGS) -O2
bench_bench_socket_LDADD = libswco.la
EXTRA_PROGRAMS += bench/bench_socket
BENCHES += bench/bench_socket
EXTRA_DIST += bench/peers/socket.go bench/peers/bench_socket.sh

# Fuzz target for the framing parser; make check runs it over its corpus.
tests_fuzz_fuzz_framing_SOURCES = tests/fuzz/fuzz_framing.c
tests_fuzz_fuzz_framing_LDADD = libswco_core.la
tests_fuzz_fuzz_framing_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_framing_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_framing
TESTS += tests/fuzz/run-framing.sh
EXTRA_DIST += tests/fuzz/run-framing.sh tests/fuzz/corpus/framing

# Fuzz target for a socket's read-ahead buffer and packet state: the real
# calls over a socketpair, with swco__framing_check() as the oracle (so it
# links the library statically, through libswco_core.la).
tests_fuzz_fuzz_socket_SOURCES = tests/fuzz/fuzz_socket.c
tests_fuzz_fuzz_socket_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_socket_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_socket_LDADD = libswco_core.la
check_PROGRAMS += tests/fuzz/fuzz_socket
TESTS += tests/fuzz/run-socket.sh
EXTRA_DIST += tests/fuzz/run-socket.sh tests/fuzz/corpus/socket
# tools/fuzz NAME SECONDS fuzzes any tests/fuzz/fuzz_NAME.c with libFuzzer.
EXTRA_DIST += tools/fuzz

# Example: a coroutine echo server and client (built and run by make check).
examples_tcp_echo_SOURCES = examples/tcp_echo.c
examples_tcp_echo_CPPFLAGS = $(EXAMPLE_CPPFLAGS)
examples_tcp_echo_LDADD = libswco.la
check_PROGRAMS += examples/tcp_echo
TESTS += examples/tcp_echo

# Fuzz target for the ALPN lists (lib/io/alpn.c: the user's list to wire
# format, the server's pick among a client's); make check runs its corpus.
tests_fuzz_fuzz_alpn_SOURCES = tests/fuzz/fuzz_alpn.c
tests_fuzz_fuzz_alpn_LDADD = libswco_core.la
tests_fuzz_fuzz_alpn_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_alpn_CFLAGS = $(AM_CFLAGS)
check_PROGRAMS += tests/fuzz/fuzz_alpn
TESTS += tests/fuzz/run-alpn.sh
EXTRA_DIST += tests/fuzz/run-alpn.sh tests/fuzz/corpus/alpn

# SWIG bindings.  bindings/swco.i is the flat C API shared by every
# language; bindings/<lang>/ holds each language's interface and code.

EXTRA_DIST += bindings/swco.i bindings/README.md bindings/python/README.md bindings/php/README.md bindings/go/README.md

# make check: at least 95% of the public functions reach every binding
# through SWIG (bindings/swco.i); tools/swig-coverage prints wrapped/total
# per header.  Skipped when configure found no SWIG.
EXTRA_DIST += tools/swig-coverage
TESTS += tools/swig-coverage
AM_TESTS_ENVIRONMENT += SWIG='$(SWIG)' abs_top_srcdir='$(abs_top_srcdir)' \
	abs_top_builddir='$(abs_top_builddir)'; export SWIG abs_top_srcdir abs_top_builddir;

# -------------------------------------------------------------- python
# swco_raw: SWIG's proxy module (swco_raw.py) over the C extension _swco, a
# libtool module built from SWIG's wrapper and pyswco.c (both generated in
# the build tree, never distributed); swco.py is the Pythonic layer.
PY_SWIG_DEPS = $(srcdir)/bindings/swco.i $(srcdir)/bindings/python/swco_python.i \
	$(srcdir)/bindings/python/pyswco.h $(include_HEADERS) $(swcoinclude_HEADERS) \
	include/swco/version.h
EXTRA_DIST += bindings/python/swco_python.i bindings/python/pyswco.h bindings/python/pyswco.c \
	bindings/python/pyswco_curl.c bindings/python/swco.py bindings/python/run-tests.sh bindings/python/tests/test_swco.py \
	bindings/python/tests/test_server.py bindings/python/tests/test_http.py \
	bindings/python/tests/test_websocket.py \
	examples/python/tcp_echo_server.py examples/python/http_hello.py \
	examples/python/hello.py bench/python/bench.py

if ENABLE_PYTHON
pyexec_LTLIBRARIES = bindings/python/_swco.la
python_PYTHON = bindings/python/swco.py
nodist_python_PYTHON = bindings/python/swco_raw.py
bindings_python__swco_la_SOURCES = bindings/python/pyswco.c bindings/python/pyswco.h \
	bindings/python/pyswco_curl.c bindings/python/pyswco_http.c
nodist_bindings_python__swco_la_SOURCES = bindings/python/swco_wrap.c
bindings_python__swco_la_CPPFLAGS = -I$(top_srcdir)/include -I$(top_builddir)/include \
	-I$(top_srcdir)/bindings/python $(PYTHON_INCLUDES)
bindings_python__swco_la_CFLAGS = $(SWCO_CFLAGS) $(CURL_CFLAGS) -fno-strict-aliasing
bindings_python__swco_la_LDFLAGS = -module -shared -avoid-version -shrext $(PYTHON_EXT_SUFFIX)
bindings_python__swco_la_LIBADD = libswco.la $(CURL_LIBS)
CLEANFILES += bindings/python/swco_wrap.c bindings/python/swco_raw.py

# One SWIG run writes both the C wrapper and the proxy module.
bindings/python/swco_wrap.c: $(PY_SWIG_DEPS)
	$(AM_V_GEN)$(MKDIR_P) bindings/python && \
	$(SWIG) -python -interface _swco -I$(top_srcdir)/include -I$(top_builddir)/include \
	  -I$(top_srcdir)/bindings -I$(top_srcdir)/bindings/python -outdir bindings/python -o $@ \
	  $(srcdir)/bindings/python/swco_python.i
bindings/python/swco_raw.py: bindings/python/swco_wrap.c

# make check: run the unittest suite against the build tree.  The
# interpreter is not built with AddressSanitizer, so under --enable-asan the
# runner preloads the sanitizer runtimes for the instrumented module.
TESTS += bindings/python/run-tests.sh
AM_TESTS_ENVIRONMENT += PYTHON='$(PYTHON)' SWCO_PY_ASAN='$(enable_asan)' \
	abs_top_srcdir='$(abs_top_srcdir)' abs_top_builddir='$(abs_top_builddir)'; \
	export PYTHON SWCO_PY_ASAN abs_top_srcdir abs_top_builddir;

# make bench also prints Python coroutine figures beside greenlet's and
# asyncio's (make bench-python alone runs just those).
bench_python_cmd = LD_LIBRARY_PATH='$(abs_top_builddir)/.libs' \
	PYTHONPATH='$(abs_top_srcdir)/bindings/python:$(abs_top_builddir)/bindings/python:$(abs_top_builddir)/bindings/python/.libs' \
	$(PYTHON) $(top_srcdir)/bench/python/bench.py
else
bench_python_cmd = echo "bench-python: Python binding not configured"
endif
bench-python: all
	@$(bench_python_cmd)
bench: bench-python
.PHONY: bench-python

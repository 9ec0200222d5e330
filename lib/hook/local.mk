# ---------------------------------------------------------------- hook
# libswco_hook: libc's blocking calls made coroutine-aware for programs that
# link (or preload) it.  Its symbols are libc's own names, so it has no
# version script and check-docs (which reads libswco.so) does not see it.
lib_LTLIBRARIES += libswco_hook.la
swcoinclude_HEADERS += include/swco/hook.h
libswco_hook_la_SOURCES = lib/hook/hook.c
libswco_hook_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
libswco_hook_la_LIBADD = libswco.la -lpthread
libswco_hook_la_LDFLAGS = -version-info $(SWCO_LT_VERSION) -no-undefined

if HAVE_CHECK
check_PROGRAMS += tests/check_hook
TESTS += tests/check_hook
endif
tests_check_hook_SOURCES = tests/check_hook.c
tests_check_hook_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_hook_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS) $(HIREDIS_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_hook_LDADD = libswco_hook.la $(TEST_LIBS) $(CURL_LIBS) $(HIREDIS_LIBS) $(LIBPQ_LIBS) -lpthread

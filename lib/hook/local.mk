# ---------------------------------------------------------------- hook
# libswco_hook: libc's blocking calls made coroutine-aware for programs that
# link (or preload) it.  Its version script (libswco_hook.sym) exports the
# calls it replaces, under libc's own names, and its swco_hook_* API; its
# own pkg-config file (swco-hook.pc) links it before libswco.
lib_LTLIBRARIES += libswco_hook.la
pkgconfig_DATA += swco-hook.pc
swcoinclude_HEADERS += include/swco/hook.h
libswco_hook_la_SOURCES = lib/hook/hook.c
libswco_hook_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
libswco_hook_la_LIBADD = libswco.la -lpthread
libswco_hook_la_LDFLAGS = -version-info $(SWCO_LT_VERSION) -no-undefined \
	-Wl,--version-script=$(top_srcdir)/lib/hook/libswco_hook.sym
EXTRA_libswco_hook_la_DEPENDENCIES = lib/hook/libswco_hook.sym
EXTRA_DIST += lib/hook/libswco_hook.sym

if HAVE_CHECK
check_PROGRAMS += tests/check_hook
TESTS += tests/check_hook
endif
tests_check_hook_SOURCES = tests/check_hook.c
tests_check_hook_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_hook_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS) $(HIREDIS_CFLAGS) $(LIBPQ_CFLAGS)
tests_check_hook_LDADD = libswco_hook.la $(TEST_LIBS) $(CURL_LIBS) $(HIREDIS_LIBS) $(LIBPQ_LIBS) -lpthread

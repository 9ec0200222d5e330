# swco_python.m4 - configure support for libswco's SWIG bindings.

# SWCO_PROG_SWIG: find SWIG (only called when a binding is on).
AC_DEFUN([SWCO_PROG_SWIG], [
  AC_ARG_VAR([SWIG], [SWIG program used to generate the bindings])
  AC_PATH_PROGS([SWIG], [swig4.0 swig])
  AS_IF([test -n "$SWIG"], [
    AC_MSG_CHECKING([whether $SWIG works])
    AS_IF([$SWIG -version >/dev/null 2>&1],
      [AC_MSG_RESULT([yes])], [AC_MSG_RESULT([no]); SWIG=])
  ])
])

# SWCO_PYTHON: --enable-python[=yes|no|auto] (default auto).
#
# The module uses CPython 3.11 internals, so the interpreter must match the
# headers it is built with.  PYTHON defaults to /usr/bin/python3 when it
# exists (the distribution's python3-dev belongs to it, whatever python3 is
# first on PATH); set PYTHON= to choose another.  An explicit yes with
# anything missing is an error; auto turns the binding off with a warning.
AC_DEFUN([SWCO_PYTHON], [
  AC_ARG_ENABLE([python],
    [AS_HELP_STRING([--enable-python@<:@=yes|no|auto@:>@],
      [build the Python binding (needs SWIG, CPython 3.11 and its headers; default auto)])],
    [], [enable_python=auto])
  AS_CASE([$enable_python], [yes|no|auto], [],
    [AC_MSG_ERROR([--enable-python takes yes, no or auto])])
  AC_ARG_VAR([PYTHON], [Python interpreter for the binding (default /usr/bin/python3 when present)])
  swco_python=no
  swco_python_why=
  AS_IF([test "$enable_python" != no], [
    AS_IF([test -z "$PYTHON" && test -x /usr/bin/python3], [PYTHON=/usr/bin/python3])
    AM_PATH_PYTHON([3.11], [swco_python=yes], [swco_python_why="no Python >= 3.11"])
    AS_IF([test "$swco_python" = yes], [
      AC_MSG_CHECKING([whether $PYTHON is CPython 3.11])
      AS_IF([$PYTHON -c 'import sys, platform; sys.exit(not (platform.python_implementation() == "CPython" and sys.version_info[[:2]] == (3, 11)))' 2>/dev/null],
        [AC_MSG_RESULT([yes])],
        [AC_MSG_RESULT([no]); swco_python=no; swco_python_why="$PYTHON is not CPython 3.11"])
    ])
    AS_IF([test "$swco_python" = yes], [
      PYTHON_INCLUDES="-I`$PYTHON -c 'import sysconfig; print(sysconfig.get_paths()[["include"]])'`"
      PYTHON_EXT_SUFFIX=`$PYTHON -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))'`
      swco_save_CPPFLAGS=$CPPFLAGS
      CPPFLAGS="$CPPFLAGS $PYTHON_INCLUDES"
      AC_CHECK_HEADER([Python.h], [], [swco_python=no; swco_python_why="no Python.h for $PYTHON (install python3-dev)"])
      CPPFLAGS=$swco_save_CPPFLAGS
    ])
    AS_IF([test "$swco_python" = yes], [
      SWCO_PROG_SWIG
      AS_IF([test -z "$SWIG"], [swco_python=no; swco_python_why="SWIG not found"])
    ])
    AS_IF([test "$swco_python" = no], [
      AS_IF([test "$enable_python" = yes],
        [AC_MSG_ERROR([--enable-python: $swco_python_why])],
        [AC_MSG_WARN([Python binding disabled: $swco_python_why])])
    ])
  ])
  AC_SUBST([enable_asan])
  AC_SUBST([PYTHON_INCLUDES])
  AC_SUBST([PYTHON_EXT_SUFFIX])
  AM_CONDITIONAL([ENABLE_PYTHON], [test "$swco_python" = yes])
])

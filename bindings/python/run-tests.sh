#!/bin/sh
# make check runner for the Python binding: the unittest suite and the
# example, against the build tree (module in bindings/python/.libs, swco.py
# from the source tree).  Under --enable-asan the interpreter is not
# instrumented, so the sanitizer runtimes are preloaded for the instrumented
# module (leak detection off: CPython keeps objects until exit by design).
if test "$SWCO_PY_ASAN" = yes; then
    asan=`${CC:-cc} -print-file-name=libasan.so`
    ubsan=`${CC:-cc} -print-file-name=libubsan.so`
    if test ! -f "$asan" || test ! -f "$ubsan"; then
        echo "FAIL: sanitizer runtimes not found for the Python tests under --enable-asan"
        exit 1
    fi
    LD_PRELOAD="$asan $ubsan${LD_PRELOAD:+ $LD_PRELOAD}"
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export LD_PRELOAD ASAN_OPTIONS
fi
: "${PYTHON:=python3}"
: "${abs_top_srcdir:?}" "${abs_top_builddir:?}"
LD_LIBRARY_PATH="$abs_top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PYTHONPATH="$abs_top_srcdir/bindings/python:$abs_top_builddir/bindings/python:$abs_top_builddir/bindings/python/.libs"
PYTHONDONTWRITEBYTECODE=1 # the source tree may be read-only (distcheck)
export LD_LIBRARY_PATH PYTHONPATH PYTHONDONTWRITEBYTECODE

status=0
# A skipped test did not pass: if any was skipped (and none failed), the
# whole suite reports SKIP (exit 77) with the reasons, never PASS.
log=`mktemp "${TMPDIR:-/tmp}/swco-pytest.XXXXXX"` || exit 99
trap 'rm -f "$log"' EXIT
skipped=0
# test_server, test_http and test_websocket run each server in a Python
# child and talk to it over loopback sockets
for suite in test_swco test_server test_http test_websocket; do
    one="$log.$suite"
    "$PYTHON" "$abs_top_srcdir/bindings/python/tests/$suite.py" -v >"$one" 2>&1 || status=1
    cat "$one" | tee -a "$log"
    n=`sed -n 's/^OK (.*skipped=\([0-9][0-9]*\).*/\1/p' "$one"`
    skipped=`expr $skipped + ${n:-0}`
    rm -f "$one"
done

out=`"$PYTHON" "$abs_top_srcdir/examples/python/hello.py" 2>&1`
echo "$out"
case $out in
    *"all done"*) echo "PASS: examples/python/hello.py" ;;
    *) echo "FAIL: examples/python/hello.py"; status=1 ;;
esac

if test $status != 0; then
    echo "python binding: FAILED"
    exit $status
fi
if test "${skipped:-0}" -gt 0; then
    echo "SKIP: $skipped Python tests did not run:"
    grep 'skipped ' "$log"
    echo "python binding: the tests that ran passed; SKIP because $skipped did not run"
    exit 77
fi
echo "python binding: all tests passed"
exit $status

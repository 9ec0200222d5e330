#!/bin/sh
# Run each benchmark given on the command line, then the peers it names,
# so every figure can be read as a ratio.  A missing peer is skipped with a
# line that says so.
srcdir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in "$@"; do
    echo "== $b"
    "./$b" || exit 1
    case "$b" in
    *bench_core)
        echo "-- peer: Go (GOMAXPROCS=1)"
        if command -v go >/dev/null 2>&1; then
            (cd "$tmp" && cp "$srcdir/peers/core.go" . && GOMAXPROCS=1 GOFLAGS=-mod=mod go run core.go) \
                || echo "go: failed"
        else
            echo "go: not installed, skipped"
        fi
        echo "-- peer: Boost.Context jump_fcontext"
        if [ -f /usr/include/boost/context/detail/fcontext.hpp ] && command -v c++ >/dev/null 2>&1 &&
           c++ -O2 -o "$tmp/fcontext" "$srcdir/peers/fcontext.cpp" -lboost_context 2>"$tmp/err"; then
            "$tmp/fcontext"
        else
            echo "boost.context: not installed, skipped (libboost-context-dev)"
        fi
        ;;
    esac
    for peer in "$srcdir"/peers/$(basename "$b").sh; do
        [ -f "$peer" ] && sh "$peer"
    done
done
exit 0

#!/bin/sh
# Install into a scratch DESTDIR, then do what a user does: build the
# README's program with pkg-config against the installed copy, run it, and
# read a man page from the installed tree.
set -u
b=$(cd "${top_builddir:-.}" && pwd)
s=$(cd "${top_srcdir:-.}" && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
dest=$tmp/dest
fail() { echo "check-install: $*"; exit 1; }

make -s -C "$b" install DESTDIR="$dest" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install failed"; }
pcdir=$(find "$dest" -name swco.pc -printf '%h\n' | head -n 1)
[ -n "$pcdir" ] || fail "swco.pc was not installed"
libdir=$(find "$dest" -name 'libswco.so' -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || fail "libswco.so was not installed"
[ -f "$(dirname "$pcdir")/../include/swco.h" ] || find "$dest" -name swco.h | grep -q . || fail "swco.h was not installed"

export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs swco) || fail "pkg-config --cflags --libs swco failed"
# A sanitizer build's library needs the program built the same way.
${CC:-cc} ${SWCO_SAN_FLAGS:-} "$s/examples/hello.c" $flags -o "$tmp/hello" || fail "the README program does not build: cc hello.c $flags"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/hello") || fail "the installed hello failed"
echo "$out" | grep -q "square 9" || fail "unexpected output: $out"

mandir=$(find "$dest" -path '*/man3/swco_coroutine_create.3' -printf '%h\n' | head -n 1)
[ -n "$mandir" ] || fail "man page swco_coroutine_create.3 was not installed"
if command -v man >/dev/null 2>&1; then
    MANPATH=$(dirname "$mandir") man -P cat swco_coroutine_create 2>/dev/null | grep -q "start a coroutine" \
        || fail "man swco_coroutine_create does not show the page"
else
    fail "man is not installed (tools/install-deps installs man-db)"
fi
n=$(ls "$mandir" | wc -l)
make -s -C "$b" uninstall DESTDIR="$dest" >/dev/null 2>&1 || fail "make uninstall failed"
left=$(find "$dest" -type f | wc -l)
[ "$left" -eq 0 ] || fail "make uninstall left $left files"
echo "check-install: installed, built hello with pkg-config, read 1 of $n man pages, uninstalled cleanly"

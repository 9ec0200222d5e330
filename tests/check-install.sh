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

# swco.pc names only what libswco links: its static form must resolve too.
pkg-config --static --libs swco >/dev/null || fail "pkg-config --static --libs swco failed"
case " $(pkg-config --libs swco) " in *hook*) fail "swco.pc links the hook library: $(pkg-config --libs swco)" ;; esac

# swco-hook.pc: a program built with it gets the hooks.  A plain usleep in a
# coroutine then yields, so the coroutine started after it finishes first.
[ -f "$pcdir/swco-hook.pc" ] || fail "swco-hook.pc was not installed"
hflags=$(pkg-config --cflags --libs swco-hook) || fail "pkg-config --cflags --libs swco-hook failed"
case " $hflags " in *" -lswco_hook "*"-lswco "*) ;; *) fail "swco-hook.pc does not link libswco_hook before libswco: $hflags" ;; esac
cat >"$tmp/hooked.c" <<'EOF_C'
#include <stdio.h>
#include <unistd.h>
#include <swco.h>
#include <swco/hook.h>
static char order[3];
static int n;
static void sleeper(void *arg) { (void)arg; usleep(1000); order[n++] = 'S'; }
static void other(void *arg) { (void)arg; order[n++] = 'O'; }
static void main_co(void *arg)
{
    (void)arg;
    swco_coroutine_create(sleeper, NULL);
    swco_coroutine_create(other, NULL);
}
int main(void)
{
    if (swco_hook_enable(SWCO_HOOK_SLEEP) != 0 || swco_run(main_co, NULL) != 0)
        return 1;
    printf("%s\n", order);
    return 0;
}
EOF_C
${CC:-cc} ${SWCO_SAN_FLAGS:-} "$tmp/hooked.c" $hflags -o "$tmp/hooked" || fail "a hooked program does not build: cc hooked.c $hflags"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/hooked") || fail "the installed hooked program failed"
[ "$out" = OS ] || fail "usleep in a coroutine did not yield through swco-hook.pc's library (order $out, want OS)"

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
echo "check-install: installed, built hello (swco.pc) and a hooked program (swco-hook.pc), read 1 of $n man pages, uninstalled cleanly"

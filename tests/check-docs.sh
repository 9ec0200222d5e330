#!/bin/sh
# Every symbol libswco (and libswco_hook's swco_hook_* API) exports must
# have a man page generated from its header comment, and no internal
# swco__ symbol may be exported.  Fails listing the symbols at fault.
set -u
b=${top_builddir:-.}
lib=$b/.libs/libswco.so
[ -f "$lib" ] || { echo "check-docs: $lib not built"; exit 1; }
[ -d "$b/doc/man3" ] || { echo "check-docs: $b/doc/man3 not generated"; exit 1; }
hook=$b/.libs/libswco_hook.so
[ -f "$hook" ] || { echo "check-docs: $hook not built"; exit 1; }
# The hook library's own API (swco_hook_*) is documented like libswco's.
syms=$(nm -D --defined-only "$lib" "$hook" | awk '$2 == "T" && $3 ~ /^swco_/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$syms" ] || { echo "check-docs: no exported swco_ symbol found"; exit 1; }
missing=0
count=0
for s in $syms; do
    count=$((count + 1))
    if [ ! -s "$b/doc/man3/$s.3" ]; then
        echo "check-docs: exported symbol $s has no man page (document it in its header)"
        missing=$((missing + 1))
    fi
done
# Internal helpers must not leak out of the library.
leaked=$(nm -D --defined-only "$lib" | awk '$2 == "T" && $3 !~ /^swco_/ { sub(/@.*/, "", $3); print $3 }' | grep -v '^_' || true)
if [ -n "$leaked" ]; then
    echo "check-docs: symbols exported without the swco_ prefix:"; echo "$leaked"
    missing=$((missing + 1))
fi
# Any kind of symbol (functions, data, TLS) of either library.
int=$(nm -D --defined-only "$lib" "$hook" | awk '$3 ~ /^swco__/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
if [ -n "$int" ]; then
    echo "check-docs: internal swco__ symbols are exported:"; echo "$int"
    missing=$((missing + 1))
fi
echo "check-docs: $count exported functions, $missing problem(s)"
[ "$missing" -eq 0 ]

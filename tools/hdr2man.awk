# Turn the documentation comments of a public header into section 3 man
# pages, one per function.  A documented function looks like:
#
#   /**
#    * swco_name - one-line summary
#    *
#    * Paragraphs of description.
#    */
#   SWCO_API int swco_name(int a,
#                          int b);
#
# Usage: awk -v outdir=DIR -v header=swco/x.h -v version=V -f hdr2man.awk FILE
function roff(s) {
    gsub(/\\/, "\\e", s)
    if (s ~ /^[.']/) s = "\\&" s
    return s
}
function flush(   out, i, line, proto) {
    if (name == "") return
    out = outdir "/" name ".3"
    proto = decl
    sub(/^SWCO_API[ \t]+/, "", proto)
    gsub(/[ \t]+/, " ", proto)
    printf ".TH %s 3 \"\" \"libswco %s\" \"libswco Manual\"\n", toupper(name), version > out
    printf ".SH NAME\n%s \\- %s\n", name, roff(summary) > out
    printf ".SH SYNOPSIS\n.nf\n.B #include <%s>\n.sp\n%s\n.fi\n", header, roff(proto) > out
    printf ".SH DESCRIPTION\n" > out
    for (i = 1; i <= nbody; i++) {
        line = body[i]
        if (line == "") printf ".PP\n" > out
        else printf "%s\n", roff(line) > out
    }
    close(out)
    pages++
    name = ""
}
BEGIN { state = 0; pages = 0 }
state == 0 && /^\/\*\*[ \t]*$/ { state = 1; nbody = 0; first = 1; name = ""; next }
state == 1 && /^[ \t]*\*\/[ \t]*$/ { state = (name != "") ? 2 : 0; decl = ""; next }
state == 1 {
    line = $0
    sub(/^[ \t]*\*[ \t]?/, "", line)
    if (first) {
        first = 0
        if (match(line, /^[a-z_0-9]+ - /)) {
            name = line; sub(/ - .*/, "", name)
            summary = line; sub(/^[a-z_0-9]+ - /, "", summary)
        }
        next
    }
    if (nbody == 0 && line == "") next
    body[++nbody] = line
    next
}
state == 2 {
    if ($0 ~ /^[ \t]*$/) next
    decl = decl " " $0
    if ($0 ~ /;/) {
        sub(/^[ \t]+/, "", decl)
        if (decl !~ "[ *]" name "\\(") {
            printf "hdr2man: comment for %s is not followed by its declaration (%s)\n", name, decl > "/dev/stderr"
            exit 1
        }
        flush()
        state = 0
    }
    next
}

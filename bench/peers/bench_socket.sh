# Peer for bench_socket: the same loopback figures from Go, one OS thread.
echo "-- peer: Go (GOMAXPROCS=1)"
if command -v go >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    cp "$(dirname "$0")/socket.go" "$tmp/" &&
        (cd "$tmp" && GOMAXPROCS=1 GOFLAGS=-mod=mod go run socket.go) || echo "go: failed"
    rm -rf "$tmp"
else
    echo "go: not installed, skipped"
fi

#!/bin/sh
# examples/tcp_echo_server as a user runs it: in each mode (BASE with 1 and
# 2 workers, PROCESS, THREAD), with TLS, on a port given or chosen; its
# first line says where it listens, every byte sent comes back (several
# clients at once, a message in pieces, 1 MiB while the client is still
# sending, nc), and SIGTERM stops it with exit status 0.  Bad command lines
# and options fail with status 2 and 1.
#
# Peers: python3 (the client), openssl (a certificate), nc (netcat-openbsd).
# A missing one fails under CI=true and skips its part otherwise.
prog=./examples/tcp_echo_server
if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 not installed"
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
exec python3 - "$prog" <<'EOF'
import os, re, select, signal, socket, ssl, shutil, subprocess, sys, tempfile, threading

prog = sys.argv[1]
slow = max(1.0, float(os.environ.get("SWCO_TEST_SLOW", "1") or 1))
LIMIT = 30 * slow            # safety net for every wait
CI = os.environ.get("CI") == "true"
failures = []

def fail(msg):
    print("FAIL:", msg, flush=True)
    failures.append(msg)

def done(what, before):
    if len(failures) == before:
        print(f"ok: {what}", flush=True)

def peer(name):
    if shutil.which(name):
        return True
    print(f"{name} not installed: its checks {'FAIL' if CI else 'are skipped'}", flush=True)
    if CI:
        failures.append(f"{name} missing")
    return False

def start(args):
    """Start the server; returns (process, port) once it printed its first line."""
    p = subprocess.Popen([prog] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    ready, _, _ = select.select([p.stdout], [], [], LIMIT)
    line = p.stdout.readline().decode(errors="replace") if ready else ""
    m = re.fullmatch(r"listening on (\d+)\n", line)
    if not m or int(m.group(1)) <= 0:
        p.kill()
        p.wait()
        raise RuntimeError(f"{args}: first line {line!r}")
    return p, int(m.group(1))

def stop(p, what):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(LIMIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail(f"{what}: still running {LIMIT:.0f} s after SIGTERM")
        return
    if rc != 0:
        fail(f"{what}: exit status {rc} after SIGTERM")

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 16, n - len(buf)))
        if not chunk:
            raise RuntimeError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)

def connect(port, ctx=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    if ctx:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s

def echo_checks(port, what, ctx=None):
    # several clients at once, their messages interleaved
    socks = [connect(port, ctx) for _ in range(4)]
    for rnd in range(3):
        msgs = [f"client {i} round {rnd}\n".encode() for i in range(len(socks))]
        for s, m in zip(socks, msgs):
            s.sendall(m)
        for s, m in zip(socks, msgs):
            got = recv_exact(s, len(m))
            if got != m:
                fail(f"{what}: sent {m!r}, got {got!r}")
    # every byte value, sent in pieces
    data = bytes(range(256)) * 4
    s = socks[1]
    for i in range(0, len(data), 100):
        s.sendall(data[i:i + 100])
    if recv_exact(s, len(data)) != data:
        fail(f"{what}: binary data in pieces came back different")
    # 1 MiB, read while it is still being sent
    big = os.urandom(1 << 20)
    if ctx is None:
        t = threading.Thread(target=s.sendall, args=(big,))
        t.start()
        got = recv_exact(s, len(big))
        t.join(LIMIT)
    else:
        # One TLS object must not be read and written from two threads at
        # once (OpenSSL), so the TLS client alternates 16 KiB each way.
        got = b"".join(s.sendall(big[i:i + 16384]) or recv_exact(s, len(big[i:i + 16384]))
                       for i in range(0, len(big), 16384))
    if got != big:
        fail(f"{what}: 1 MiB came back different")
    # one client leaving does not disturb the others
    socks[0].close()
    socks[2].sendall(b"still here\n")
    if recv_exact(socks[2], 11) != b"still here\n":
        fail(f"{what}: echo after another client left")
    for s in socks[1:]:
        s.close()

def nc_check(port, what):
    # nc -N half-closes after sending: the echo must still come back.
    out = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=b"hello nc\n",
                         stdout=subprocess.PIPE, timeout=LIMIT).stdout
    if out != b"hello nc\n":
        fail(f"{what}: nc -N got {out!r}")

have_nc = peer("nc")
modes = [("base", 1), ("base", 2), ("process", 1), ("process", 2), ("thread", 1), ("thread", 2)]
for mode, workers in modes:
    what = f"--mode {mode} --workers {workers}"
    before = len(failures)
    try:
        p, port = start(["--mode", mode, "--workers", str(workers)])
    except Exception as e:
        fail(f"{what}: {e}")
        continue
    try:
        echo_checks(port, what)
        if have_nc:
            nc_check(port, what)
    except Exception as e:
        fail(f"{what}: {e}")
    stop(p, what)
    done(what, before)

# --port P: the port asked for
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
want = probe.getsockname()[1]
probe.close()
before = len(failures)
try:
    p, port = start(["--port", str(want)])
    if port != want:
        fail(f"--port {want}: listening on {port}")
    # the same port again: cannot start, status 1
    r = subprocess.run([prog, "--port", str(want)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=LIMIT)
    if r.returncode != 1 or r.stdout:
        fail(f"port in use: status {r.returncode}, printed {r.stdout!r}")
    echo_checks(port, f"--port {want}")
    stop(p, f"--port {want}")
    done(f"--port {want}", before)
except Exception as e:
    fail(f"--port: {e}")

# --ssl CERT KEY
if peer("openssl"):
    tmp = tempfile.mkdtemp()
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(cafile=cert)
    for mode, workers in [("base", 1), ("process", 2), ("thread", 2)]:
        what = f"--ssl --mode {mode} --workers {workers}"
        before = len(failures)
        try:
            p, port = start(["--mode", mode, "--workers", str(workers), "--ssl", cert, key])
        except Exception as e:
            fail(f"{what}: {e}")
            continue
        try:
            echo_checks(port, what, ctx)
        except Exception as e:
            fail(f"{what}: {e}")
        stop(p, what)
        done(what, before)
    shutil.rmtree(tmp)

# bad command lines: status 2; a bad option: status 1, nothing on stdout
before = len(failures)
for args, status in [(["--mode", "fork"], 2), (["--port", "70000"], 2), (["--bogus"], 2),
                     (["--ssl", "only-cert"], 2), (["--set", "no_equals"], 2),
                     (["--set", "no_such_option=1"], 1), (["--workers", "-3"], 1),
                     (["--ssl", "/nonexistent/cert", "/nonexistent/key"], 1)]:
    r = subprocess.run([prog] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=LIMIT)
    if r.returncode != status or (status == 2 and r.stdout):
        fail(f"{args}: status {r.returncode} (expected {status}), stdout {r.stdout!r}")
    elif not r.stderr:
        fail(f"{args}: no message on stderr")
done("bad command lines", before)

sys.exit(1 if failures else 0)
EOF

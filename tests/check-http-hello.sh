#!/bin/sh
# examples/http_hello as a user runs it: in each mode (BASE with 1 and 2
# workers, PROCESS, THREAD), on a port given or chosen; its first line says
# where it listens, and real HTTP clients get 200 and "Hello, World!":
# curl (two URLs over one keep-alive connection, a chunked upload,
# --compressed), Python's http.client (keep-alive GET/HEAD/POST, pipelined
# requests answered in order), ab -n 2000 -c 20 (every request complete,
# none failed) and a one-second wrk run (requests done, no errors, no
# non-2xx).  /ws echoes WebSocket messages (python3-websockets, with and
# without permessage-deflate).
# SIGTERM stops the server with exit status 0, also with a client
# connected.  Bad command lines and options fail with status 2 and 1.
#
# Peers: python3, curl, ab (apache2-utils), wrk, python3-websockets.  A
# missing one fails under CI=true and skips its part otherwise.
prog=./examples/http_hello
py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "python3 not installed"
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
exec "$py" - "$prog" <<'EOF'
import http.client, os, re, select, signal, socket, shutil, subprocess, sys, tempfile

prog = sys.argv[1]
slow = max(1.0, float(os.environ.get("SWCO_TEST_SLOW", "1") or 1))
LIMIT = 30 * slow            # safety net for every wait
CI = os.environ.get("CI") == "true"
HELLO = b"Hello, World!"
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

def run(args, **kw):
    return subprocess.run(args, stdin=kw.pop("stdin", subprocess.DEVNULL), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=LIMIT * 2, **kw)

def curl_checks(port, what):
    base = f"http://127.0.0.1:{port}"
    # two URLs, one connection: the second transfer makes no new connection
    r = run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null",
             "-w", "%{http_code} %{num_connects} %{size_download}\n",
             base + "/a", base + "/b?x=1"])
    if r.returncode != 0 or r.stdout != b"200 1 13\n200 0 13\n":
        fail(f"{what}: curl keep-alive: status {r.returncode}, {r.stdout!r} {r.stderr!r}")
    r = run(["curl", "-sS", base + "/a", base + "/b"])
    if r.stdout != HELLO * 2:
        fail(f"{what}: curl two URLs printed {r.stdout!r}")
    # a chunked upload (1 MiB from stdin)
    data = os.urandom(1 << 20)
    r = subprocess.run(["curl", "-sS", "-H", "Transfer-Encoding: chunked",
                        "-H", "Content-Type: application/octet-stream", "--data-binary", "@-",
                        "-w", " %{http_code}", base + "/upload"],
                       input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=LIMIT * 2)
    if r.returncode != 0 or r.stdout != HELLO + b" 200":
        fail(f"{what}: curl chunked upload: status {r.returncode}, {r.stdout[:200]!r} {r.stderr!r}")
    # --compressed: asks for gzip, deflate, br; the body comes back intact
    r = run(["curl", "-sS", "--compressed", "-D", "-", base + "/"])
    if r.returncode != 0 or not r.stdout.endswith(b"\r\n\r\n" + HELLO) or b" 200" not in r.stdout.split(b"\r\n")[0]:
        fail(f"{what}: curl --compressed: {r.stdout!r} {r.stderr!r}")

def http_client_checks(port, what):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
    for i in range(50):
        method = ("GET", "HEAD", "POST")[i % 3]
        body = b"x" * i if method == "POST" else None
        c.request(method, f"/r{i}?i={i}", body=body, headers={"X-Test": str(i)})
        resp = c.getresponse()
        got = resp.read()
        want = b"" if method == "HEAD" else HELLO
        if resp.status != 200 or got != want or resp.getheader("Content-Length") != "13":
            fail(f"{what}: http.client {method} #{i}: {resp.status} {got!r} "
                 f"Content-Length {resp.getheader('Content-Length')}")
            break
        if resp.will_close:
            fail(f"{what}: http.client {method} #{i}: the server closes a keep-alive connection")
            break
    c.close()
    # HTTP/1.0 without keep-alive: answered, then closed
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
    c._http_vsn, c._http_vsn_str = 10, "HTTP/1.0"
    c.request("GET", "/old")
    resp = c.getresponse()
    if resp.status != 200 or resp.read() != HELLO:
        fail(f"{what}: HTTP/1.0 request: {resp.status}")
    c.close()
    # pipelining: three requests in one write, three responses in order
    s = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
    s.sendall(reqs + b"HEAD /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    heads = re.findall(rb"HTTP/1\.1 (\d{3}) [^\r]*\r\n", buf)
    if heads != [b"200"] * 4 or buf.count(HELLO) != 3:
        fail(f"{what}: pipelined requests: {buf!r}")

def ab_check(port, what):
    r = run(["ab", "-q", "-n", "2000", "-c", "20", f"http://127.0.0.1:{port}/"])
    out = r.stdout.decode(errors="replace")
    complete = re.search(r"Complete requests:\s+(\d+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    if r.returncode != 0 or not complete or int(complete.group(1)) != 2000 or not failed \
            or int(failed.group(1)) != 0 or "Non-2xx" in out \
            or not re.search(r"Document Length:\s+13 bytes", out):
        fail(f"{what}: ab: status {r.returncode}\n{out}{r.stderr.decode(errors='replace')}")

def wrk_check(port, what):
    r = run(["wrk", "-t1", "-c10", "-d1s", f"http://127.0.0.1:{port}/"])
    out = r.stdout.decode(errors="replace")
    m = re.search(r"(\d+) requests in", out)
    if r.returncode != 0 or not m or int(m.group(1)) == 0 or "Socket errors" in out \
            or "Non-2xx" in out:
        fail(f"{what}: wrk: status {r.returncode}\n{out}{r.stderr.decode(errors='replace')}")

WS_CLIENT = r'''
import asyncio, sys, websockets
async def main(port, compression):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression=compression,
                                  max_size=None) as ws:
        want = "permessage-deflate" if compression else None
        ext = [e.name for e in ws.extensions]
        if (want in ext) != bool(compression):
            sys.exit(f"extensions {ext}")
        for i in range(200):
            msg = ("text %d " % i) * (i % 7 + 1) if i % 2 else bytes([i % 256]) * (i * 37)
            await ws.send(msg)
            got = await ws.recv()
            if got != msg:
                sys.exit(f"message {i}: sent {msg!r:.60}, got {got!r:.60}")
        big = bytes(range(256)) * 4096
        await ws.send(big)
        if await ws.recv() != big:
            sys.exit("1 MiB message came back different")
        await ws.close()
        if ws.close_code != 1000:
            sys.exit(f"close code {ws.close_code}")
asyncio.run(main(int(sys.argv[1]), None if sys.argv[2] == "0" else "deflate"))
'''

def ws_check(port, what):
    for comp in ("0", "1"):
        r = run([sys.executable, "-c", WS_CLIENT, str(port), comp])
        if r.returncode != 0:
            fail(f"{what}: WebSocket echo (compression {comp}): {r.stderr.decode(errors='replace')[-800:]}")

def term_with_client(port, p, what):
    """SIGTERM while a keep-alive client is connected and idle: the server
    still stops (status 0) and the client sees its connection end."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
    c.request("GET", "/before-stop")
    resp = c.getresponse()
    if resp.read() != HELLO:
        fail(f"{what}: request before SIGTERM")
    stop(p, what + " (client connected)")
    try:
        c.request("GET", "/after-stop")
        c.getresponse()
        fail(f"{what}: a request after the stop was answered")
    except (OSError, http.client.HTTPException):
        pass
    c.close()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=LIMIT).close()
        fail(f"{what}: still accepting connections after SIGTERM")
    except OSError:
        pass

have = {name: peer(name) for name in ("curl", "ab", "wrk")}
try:
    import websockets  # noqa: F401
    have_ws = True
except ImportError:
    have_ws = False
    print(f"python3-websockets not installed: its checks {'FAIL' if CI else 'are skipped'}")
    if CI:
        failures.append("python3-websockets missing")

modes = [("base", 1), ("base", 2), ("process", 2), ("thread", 2)]
for mode, workers in modes:
    what = f"--mode {mode} --workers {workers}"
    before = len(failures)
    try:
        p, port = start(["--mode", mode, "--workers", str(workers)])
    except Exception as e:
        fail(f"{what}: {e}")
        continue
    try:
        http_client_checks(port, what)
        if have["curl"]:
            curl_checks(port, what)
        if have["ab"]:
            ab_check(port, what)
        if have["wrk"]:
            wrk_check(port, what)
        if have_ws:
            ws_check(port, what)
        # the server is unharmed by all of that
        http_client_checks(port, what + " (after the load)")
    except Exception as e:
        fail(f"{what}: {type(e).__name__}: {e}")
    if mode == "base" and workers == 1:
        term_with_client(port, p, what)
    else:
        stop(p, what)
    done(what, before)

# --port P: the port asked for; the same port again cannot start (status 1)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
want = probe.getsockname()[1]
probe.close()
before = len(failures)
try:
    p, port = start(["--port", str(want)])
    if port != want:
        fail(f"--port {want}: listening on {port}")
    r = run([prog, "--port", str(want)])
    if r.returncode != 1 or r.stdout:
        fail(f"port in use: status {r.returncode}, printed {r.stdout!r}")
    http_client_checks(port, f"--port {want}")
    stop(p, f"--port {want}")
    done(f"--port {want}", before)
except Exception as e:
    fail(f"--port: {e}")

# --page FILE: served at "/", other paths still say hello
before = len(failures)
tmp = tempfile.mkdtemp()
try:
    page = os.path.join(tmp, "page.html")
    with open(page, "w") as f:
        f.write("<!doctype html><title>t</title><p>page</p>\n")
    p, port = start(["--page", page])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
    c.request("GET", "/")
    resp = c.getresponse()
    body = resp.read()
    if resp.status != 200 or b"<p>page</p>" not in body or \
            not (resp.getheader("Content-Type") or "").startswith("text/html"):
        fail(f"--page: / gave {resp.status} {resp.getheader('Content-Type')} {body!r}")
    c.request("GET", "/other")
    resp = c.getresponse()
    if resp.read() != HELLO:
        fail("--page: /other is not hello")
    c.close()
    stop(p, "--page")
    done("--page", before)
except Exception as e:
    fail(f"--page: {e}")
finally:
    shutil.rmtree(tmp)

# bad command lines: status 2; a bad option: status 1, nothing on stdout
before = len(failures)
for args, status in [(["--mode", "fork"], 2), (["--port", "70000"], 2), (["--bogus"], 2),
                     (["--set", "no_equals"], 2), (["--set", "no_such_option=1"], 1),
                     (["--workers", "-3"], 1), (["--page", "/nonexistent/page.html"], 1)]:
    r = run([prog] + args)
    if r.returncode != status or (status == 2 and r.stdout):
        fail(f"{args}: status {r.returncode} (expected {status}), stdout {r.stdout!r}")
    elif not r.stderr:
        fail(f"{args}: no message on stderr")
done("bad command lines", before)

sys.exit(1 if failures else 0)
EOF

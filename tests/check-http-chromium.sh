#!/bin/sh
# A page served by examples/http_hello and driven by headless Chromium:
# tests/http-chromium.html opens a WebSocket to the server's /ws
# (Chromium offers permessage-deflate with context takeover), sends 1,000
# messages and checks every echo; the outcome goes into the page, which
# this test reads back through chromedriver (the W3C WebDriver protocol,
# spoken with http.client: no Selenium needed).  Asserted: 1,000 echoes
# equal and in order, permessage-deflate negotiated, a clean close 1000;
# in BASE and PROCESS mode.  Loopback only.
#
# Peers: python3, chromium, chromedriver (Debian's chromium-driver).  A
# missing one fails under CI=true and skips otherwise.
prog=./examples/http_hello
page="${top_srcdir:-.}/tests/http-chromium.html"
py=${PYTHON:-python3}
for p in "$py" chromium chromedriver; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "$p not installed"
        [ "${CI:-}" = true ] && exit 1
        exit 77
    fi
done
exec "$py" - "$prog" "$page" <<'EOF_PY'
import http.client, json, os, re, select, shutil, signal, socket, subprocess, sys, tempfile

prog, page = sys.argv[1], sys.argv[2]
slow = max(1.0, float(os.environ.get("SWCO_TEST_SLOW", "1") or 1))
LIMIT = 60 * slow
failures = []

def fail(msg):
    print("FAIL:", msg, flush=True)
    failures.append(msg)

def first_line(p, pattern, what, skip=0):
    """The number in the line matching pattern, among the first skip + 1."""
    for _ in range(skip + 1):
        ready, _, _ = select.select([p.stdout], [], [], LIMIT)
        line = p.stdout.readline().decode(errors="replace") if ready else ""
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    p.kill()
    p.wait()
    raise RuntimeError(f"{what}: said {line!r}")

def stop(p, what, want_zero=True):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(LIMIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail(f"{what}: still running after SIGTERM")
        return
    if want_zero and rc != 0:
        fail(f"{what}: exit status {rc} after SIGTERM")

class WebDriver:
    def __init__(self, port):
        self.port = port
        self.session = None

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=LIMIT * 2)
        data = None if body is None else json.dumps(body)
        c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        reply = json.loads(resp.read() or b"{}")
        c.close()
        value = reply.get("value")
        if resp.status != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {resp.status} {value}")
        return value

    def start(self, profile):
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": shutil.which("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--no-proxy-server", "--user-data-dir=" + profile]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]
        self.call("POST", f"/session/{self.session}/timeouts",
                  {"script": int(LIMIT * 1000), "pageLoad": int(LIMIT * 1000)})

    def run(self, script, asynchronous=False):
        kind = "async" if asynchronous else "sync"
        return self.call("POST", f"/session/{self.session}/execute/{kind}",
                         {"script": script, "args": []})

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}")
            except Exception as e:
                print(f"closing the WebDriver session: {e}")
            self.session = None

tmp = tempfile.mkdtemp()
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
driver_port = probe.getsockname()[1]
probe.close()
driver = subprocess.Popen(["chromedriver", f"--port={driver_port}"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
try:
    first_line(driver, r"ChromeDriver .*started successfully on port (\d+)", "chromedriver", skip=10)
    for mode, workers in [("base", 1), ("process", 2)]:
        what = f"--mode {mode} --workers {workers}"
        before = len(failures)
        srv = subprocess.Popen([prog, "--mode", mode, "--workers", str(workers), "--page", page],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        wd = WebDriver(driver_port)
        try:
            port = first_line(srv, r"^listening on (\d+)$", what)
            wd.start(os.path.join(tmp, mode))
            wd.call("POST", f"/session/{wd.session}/url", {"url": f"http://127.0.0.1:{port}/"})
            # the page's own Promise says when it is done: no polling
            result = wd.run("const done = arguments[arguments.length - 1];"
                            "window.swcoResult.then(done);", asynchronous=True)
            # read back what the page shows
            shown = wd.run("return document.getElementById('result').textContent;")
            print(f"{what}: {shown}", flush=True)
            if shown != result:
                fail(f"{what}: the page shows {shown!r}, its Promise gave {result!r}")
            m = re.fullmatch(r"RESULT ok=(\d+) bad=(\d+) extensions=\[(.*)\] close=(\d+) "
                             r"clean=(\w+)(.*)", shown or "")
            if not m:
                fail(f"{what}: page result {shown!r}")
            else:
                ok, bad, ext, code, clean = int(m.group(1)), int(m.group(2)), m.group(3), \
                    int(m.group(4)), m.group(5)
                if ok != 1000 or bad != 0:
                    fail(f"{what}: {ok} of 1000 messages came back equal, {bad} differed{m.group(6)}")
                if "permessage-deflate" not in ext:
                    fail(f"{what}: permessage-deflate not negotiated (extensions: {ext!r})")
                if code != 1000 or clean != "true":
                    fail(f"{what}: close code {code}, clean {clean}")
        except Exception as e:
            fail(f"{what}: {type(e).__name__}: {e}")
        finally:
            wd.quit()
            if srv.poll() is None:
                stop(srv, what)
        if len(failures) == before:
            print(f"ok: {what}: 1,000 WebSocket messages round-tripped from Chromium", flush=True)
finally:
    stop(driver, "chromedriver", want_zero=False)
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
EOF_PY

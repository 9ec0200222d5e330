"""Tests of swco.http (stdlib unittest; run by make check through
run-tests.sh).

Each server runs in its own Python process (test_server.ServerProcess),
started from a small script that prints "listening on PORT"; the tests
are HTTP clients from the standard library (http.client, urllib) on
loopback, and stop the server with SIGTERM.  Nothing waits by the clock.
"""

import errno
import hashlib
import http.client
import json
import os
import shutil
import socket
import tempfile
import textwrap
import unittest
import urllib.parse
import urllib.request

import swco
import swco.http
import swco.websocket
from test_server import LIMIT, ServerProcess


def conn(test, port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
    test.addCleanup(c.close)
    return c


def get(c, method, url, body=None, headers=None):
    c.request(method, url, body=body, headers=headers or {})
    resp = c.getresponse()
    return resp, resp.read()


def multipart(fields, files, boundary="swcoBoundary7MA4YWxk"):
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, name, value)).encode())
    for name, filename, ctype, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode()
                   + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


# Fields of a request as the server scripts return them (JSON).
REQUEST_JSON = """
def fields(f):
    return {"first": f.to_dict(), "pairs": f.pairs()}

def describe(req):
    return {
        "method": req.method, "uri": req.uri, "path": req.path,
        "query_string": req.query_string, "version": req.version,
        "remote_addr": req.remote_addr, "remote_port": req.remote_port,
        "fd": req.fd, "content_length": req.content_length,
        "query": fields(req.query), "cookies": fields(req.cookies),
        "x_a": req.headers.getall("x-a"), "host": req.headers["HOST"],
        "has_x_b": "X-B" in req.headers,
    }
"""


class HttpServerTest(unittest.TestCase):

    def server(self, body, prelude=""):
        return ServerProcess(self, "import swco.http\n" + textwrap.dedent(prelude)
                             + textwrap.dedent(body))

    def test_hello_keepalive(self):
        """A handler's return value is the body; one connection carries
        many requests; HEAD gets the headers only."""
        srv = self.server("""
            srv = swco.http.Server("127.0.0.1", 0)

            @srv.handler
            def hello(req, resp):
                resp.header("Content-Type", "text/plain")
                return "Hello, World!"

            say("listening on", srv.port)
            srv.start()
        """)
        c = conn(self, srv.port)
        for i in range(20):
            method = "HEAD" if i % 5 == 4 else "GET"
            resp, body = get(c, method, "/n/%d" % i)
            self.assertEqual(resp.status, 200)
            self.assertEqual(body, b"" if method == "HEAD" else b"Hello, World!")
            self.assertEqual(resp.getheader("Content-Length"), "13")
            self.assertEqual(resp.getheader("Content-Type"), "text/plain")
            self.assertFalse(resp.will_close)
        with urllib.request.urlopen("http://127.0.0.1:%d/u" % srv.port, timeout=LIMIT) as r:
            self.assertEqual(r.read(), b"Hello, World!")
        self.assertEqual(srv.stop(), 0)

    def test_request_fields(self):
        """method, uri, path (decoded), query (repeats kept), headers
        (case-insensitive), cookies, client address."""
        srv = self.server(prelude=REQUEST_JSON, body="""
            srv = swco.http.Server("127.0.0.1", 0)
            srv.on("request", lambda req, resp: describe(req))
            say("listening on", srv.port)
            srv.start()
        """)
        c = conn(self, srv.port)
        c.putrequest("GET", "/a%20b/c?x=1&x=2&y=%C3%A9+z&empty=")
        c.putheader("X-A", "one")
        c.putheader("x-a", "two")
        c.putheader("Cookie", "sid=abc; theme=dark")
        c.endheaders()
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        d = json.loads(resp.read())
        self.assertEqual(d["method"], "GET")
        self.assertEqual(d["uri"], "/a%20b/c?x=1&x=2&y=%C3%A9+z&empty=")
        self.assertEqual(d["path"], "/a b/c")
        self.assertEqual(d["query_string"], "x=1&x=2&y=%C3%A9+z&empty=")
        self.assertEqual(d["version"], 11)
        self.assertEqual(d["query"]["first"], {"x": "1", "y": "\u00e9 z", "empty": ""})
        self.assertEqual(d["query"]["pairs"], [["x", "1"], ["x", "2"], ["y", "\u00e9 z"],
                                               ["empty", ""]])
        self.assertEqual(d["cookies"]["first"], {"sid": "abc", "theme": "dark"})
        self.assertEqual(d["x_a"], ["one", "two"])
        self.assertEqual(d["host"], "127.0.0.1:%d" % srv.port)
        self.assertFalse(d["has_x_b"])
        self.assertEqual(d["remote_addr"], "127.0.0.1")
        self.assertEqual(d["remote_port"], c.sock.getsockname()[1])
        self.assertEqual(d["content_length"], 0)
        self.assertEqual(srv.stop(), 0)

    def test_forms_files_and_body(self):
        """urlencoded and multipart forms, uploaded files (read, save),
        the raw body, and a large body streamed with read()."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        srv = self.server("""
            import hashlib, json, os
            srv = swco.http.Server("127.0.0.1", 0, http_upload_memory_max=0,
                                   package_max_length=64 << 20)
            saved = %r

            @srv.handler
            def h(req, resp):
                if req.path == "/form":
                    return {"post": req.post.to_dict(), "all": req.post.getall("n")}
                if req.path == "/files":
                    out = {"post": req.post.to_dict(), "files": []}
                    for name in req.files:
                        for f in req.files.getall(name):
                            data = f.read()
                            out["files"].append([f.field, f.filename, f.content_type, f.size,
                                                 hashlib.sha256(data).hexdigest(), f.error])
                    f = req.files["doc"]
                    f.save(os.path.join(saved, "doc.bin"))
                    return out
                if req.path == "/body":
                    return {"len": len(req.body), "sha": hashlib.sha256(req.body).hexdigest(),
                            "again": req.body == req.get_content()}
                if req.path == "/stream":
                    h, n, pieces = hashlib.sha256(), 0, 0
                    for piece in req:
                        h.update(piece)
                        n += len(piece)
                        pieces += 1
                    return {"len": n, "sha": h.hexdigest(), "many": pieces > 1}
                return "?"

            say("listening on", srv.port)
            srv.start()
        """ % tmp)
        c = conn(self, srv.port)
        form = urllib.parse.urlencode([("n", "1"), ("n", "2"), ("t", "a b&c=\u00e9")])
        resp, body = get(c, "POST", "/form", form,
                         {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(resp.status, 200, body)
        d = json.loads(body)
        self.assertEqual(d["post"], {"n": "1", "t": "a b&c=\u00e9"})
        self.assertEqual(d["all"], ["1", "2"])

        doc = os.urandom(300000)
        pic = bytes(range(256)) * 10
        data, ctype = multipart([("title", "x y")], [("doc", "d.bin", "application/pdf", doc),
                                                     ("pic", "p.png", "image/png", pic)])
        resp, body = get(c, "POST", "/files", data, {"Content-Type": ctype})
        self.assertEqual(resp.status, 200, body)
        d = json.loads(body)
        self.assertEqual(d["post"], {"title": "x y"})
        self.assertEqual(sorted(map(tuple, d["files"])), sorted([
            ("doc", "d.bin", "application/pdf", len(doc), hashlib.sha256(doc).hexdigest(), 0),
            ("pic", "p.png", "image/png", len(pic), hashlib.sha256(pic).hexdigest(), 0)]))
        with open(os.path.join(tmp, "doc.bin"), "rb") as f:
            self.assertEqual(f.read(), doc)

        raw = os.urandom(200000) + b"\0end"
        resp, body = get(c, "POST", "/body", raw, {"Content-Type": "application/octet-stream"})
        d = json.loads(body)
        self.assertEqual((d["len"], d["sha"], d["again"]),
                         (len(raw), hashlib.sha256(raw).hexdigest(), True))

        big = os.urandom(4 << 20)

        def chunks():
            for i in range(0, len(big), 65536):
                yield big[i:i + 65536]

        c.request("PUT", "/stream", body=chunks(), encode_chunked=True,
                  headers={"Transfer-Encoding": "chunked"})
        resp = c.getresponse()
        d = json.loads(resp.read())
        self.assertEqual((d["len"], d["sha"], d["many"]),
                         (len(big), hashlib.sha256(big).hexdigest(), True))
        self.assertEqual(srv.stop(), 0)

    def test_response_api(self):
        """status, headers (set, add, remove), cookies, streamed chunked
        body with a trailer, redirect, sendfile, JSON, compression off."""
        fd, path = tempfile.mkstemp(suffix=".txt")
        os.write(fd, b"0123456789" * 1000)
        os.close(fd)
        self.addCleanup(os.remove, path)
        srv = self.server("""
            srv = swco.http.Server("127.0.0.1", 0)
            path = %r

            @srv.handler
            def h(req, resp):
                p = req.path
                if p == "/status":
                    resp.status(201, "Made").header("X-One", "1").header("X-Gone", "x")
                    resp.header("X-Gone", None).add_header("X-Two", "a").add_header("X-Two", "b")
                    resp.cookie("sid", "a b;c", max_age=60, path="/", httponly=True,
                                samesite="Lax")
                    resp.cookie("plain", "v", secure=True)
                    resp.end(b"made")
                elif p == "/stream":
                    resp.header("Content-Type", "text/plain")
                    resp.trailer("X-Sum", "done")
                    for i in range(5):
                        resp.write("part %%d\\n" %% i)
                    resp.end()
                elif p == "/redirect":
                    resp.redirect("/elsewhere", 301)
                elif p == "/file":
                    resp.sendfile(path, 10, 25)
                elif p == "/json":
                    resp.json({"a": [1, 2]}, status=202)
                elif p == "/bad-header":
                    try:
                        resp.header("X-Bad", "a\\r\\nInjected: 1")
                    except swco.Error as e:
                        return "refused %%s" %% e.name
                    return "accepted"
                elif p == "/late":
                    resp.end("first")
                    try:
                        resp.status(404)
                    except swco.Error as e:
                        say("late", e.name, resp.is_writable)
                else:
                    resp.set_compression(False)
                    return "x" * 1000

            say("listening on", srv.port)
            srv.start()
        """ % path)
        c = conn(self, srv.port)
        resp, body = get(c, "GET", "/status")
        self.assertEqual((resp.status, resp.reason, body), (201, "Made", b"made"))
        self.assertEqual(resp.getheader("X-One"), "1")
        self.assertIsNone(resp.getheader("X-Gone"))
        self.assertEqual(resp.msg.get_all("X-Two"), ["a", "b"])
        cookies = resp.msg.get_all("Set-Cookie")
        self.assertEqual(len(cookies), 2, cookies)
        sid = [v for v in cookies if v.startswith("sid=")][0]
        self.assertTrue(sid.startswith("sid=a%20b%3Bc"), sid)
        for attr in ("Max-Age=60", "Path=/", "HttpOnly", "SameSite=Lax"):
            self.assertIn(attr, sid)
        self.assertIn("Secure", [v for v in cookies if v.startswith("plain=")][0])

        resp, body = get(c, "GET", "/stream")
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(body, b"".join(b"part %d\n" % i for i in range(5)))

        resp, body = get(c, "GET", "/redirect")
        self.assertEqual((resp.status, resp.getheader("Location")), (301, "/elsewhere"))

        resp, body = get(c, "GET", "/file")
        self.assertEqual(body, (b"0123456789" * 10)[10:35])
        self.assertEqual(resp.getheader("Content-Type", "").split(";")[0], "text/plain")

        resp, body = get(c, "GET", "/json")
        self.assertEqual((resp.status, resp.getheader("Content-Type"), json.loads(body)),
                         (202, "application/json", {"a": [1, 2]}))

        resp, body = get(c, "GET", "/bad-header")
        self.assertEqual(body, b"refused EINVAL")

        resp, body = get(c, "GET", "/late")
        self.assertEqual((resp.status, body), (200, b"first"))
        self.assertEqual(srv.expect("late "), "late EALREADY False")

        resp, body = get(c, "GET", "/big", headers={"Accept-Encoding": "gzip"})
        self.assertIsNone(resp.getheader("Content-Encoding"))
        self.assertEqual(body, b"x" * 1000)
        self.assertEqual(srv.stop(), 0)

    def test_exception_answers_500(self):
        """A handler's exception is reported and answered with 500; the
        worker goes on."""
        srv = self.server("""
            srv = swco.http.Server("127.0.0.1", 0)

            @srv.handler
            def h(req, resp):
                if req.path == "/boom":
                    raise ValueError("boom in the handler")
                return "fine"

            say("listening on", srv.port)
            srv.start()
        """)
        c = conn(self, srv.port)
        resp, body = get(c, "GET", "/boom")
        self.assertEqual(resp.status, 500)
        c.close()
        c = conn(self, srv.port)
        resp, body = get(c, "GET", "/ok")
        self.assertEqual((resp.status, body), (200, b"fine"))
        self.assertEqual(srv.stop(), 0)
        self.assertIn("ValueError: boom in the handler", srv.stderr())

    def test_detach_and_create(self):
        """A detached response is answered from another coroutine with
        Response.create(); the next request on the connection waits for
        it, so responses stay in order."""
        srv = self.server("""
            chan = swco.Channel(16)
            srv = swco.http.Server("127.0.0.1", 0)

            def answer(fd):
                swco.sleep(0)  # after the handler returned
                with swco.http.Response.create(srv, fd) as resp:
                    resp.header("X-Later", "yes")
                    resp.end("answered later")

            @srv.handler
            def h(req, resp):
                if req.path == "/detach":
                    resp.detach()
                    swco.go(answer, req.fd)
                    return None
                return "next"

            say("listening on", srv.port)
            srv.start()
        """)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=LIMIT)
        self.addCleanup(s.close)
        s.sendall(b"GET /detach HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        first = buf.find(b"answered later")
        second = buf.find(b"next")
        self.assertTrue(0 < first < second, buf)
        self.assertIn(b"X-Later: yes", buf)
        self.assertEqual(srv.stop(), 0)

    def test_process_mode_and_listener_handler(self):
        """PROCESS mode with two workers; a second listener with its own
        handler."""
        srv = self.server("""
            import os
            srv = swco.http.Server("127.0.0.1", 0, mode=swco.SERVER_PROCESS, worker_num=2)
            srv.on("request", lambda req, resp: "main %d" % req.listener)
            extra = srv.add_listener("127.0.0.1", 0)
            extra.set(open_http_protocol=True)
            extra.on("request", lambda req, resp: "extra %d" % req.listener)
            say("listening on", srv.port, extra.port)
            srv.start()
        """)
        extra_port = int(srv.first_line.split()[3])
        for i in range(10):
            c = conn(self, srv.port)
            resp, body = get(c, "GET", "/")
            self.assertEqual(body, b"main 0")
            c.close()
        c = conn(self, extra_port)
        resp, body = get(c, "GET", "/")
        self.assertEqual(body, b"extra 1")
        self.assertEqual(srv.stop(), 0)

    def test_example(self):
        """examples/python/http_hello.py as the README shows it."""
        here = os.path.dirname(os.path.abspath(__file__))
        example = os.path.join(here, "..", "..", "..", "examples", "python", "http_hello.py")
        with open(example) as f:
            code = f.read()
        srv = ServerProcess(self, "sys.argv = ['http_hello.py', '--port', '0']\n" + code)
        c = conn(self, srv.port)
        resp, body = get(c, "GET", "/")
        self.assertEqual((resp.status, body), (200, b"Hello, World!"))
        resp, body = get(c, "GET", "/hello?name=Ann")
        self.assertEqual(body, b"Hello, Ann!")
        resp, body = get(c, "POST", "/echo", json.dumps({"k": [1]}),
                         {"Content-Type": "application/json"})
        self.assertEqual(json.loads(body), {"json": {"k": [1]}})
        got = {}

        def ws_echo():
            with swco.websocket.connect("ws://127.0.0.1:%d/ws" % srv.port, LIMIT,
                                        compression=True) as ws:
                ws.send("echo me")
                got["frame"] = ws.recv(LIMIT)
                got["compression"] = ws.compression

        swco.run(ws_echo)
        self.assertEqual((got["frame"].data, got["compression"]), ("echo me", True))
        self.assertEqual(srv.stop(), 0)

    def test_thread_mode_refused(self):
        with self.assertRaises(swco.Error) as cm:
            swco.http.Server("127.0.0.1", 0, mode=swco.SERVER_THREAD)
        self.assertEqual(cm.exception.code, -errno.ENOTSUP)

    def test_module(self):
        self.assertIs(swco.http, __import__("swco.http").http)
        self.assertEqual(swco.http.Server.__name__, "Server")
        self.assertTrue(issubclass(swco.http.Server, swco.Server))
        f = swco.http.Fields([("A", "1"), ("b", "2"), ("a", "3")], icase=True)
        self.assertEqual((f["a"], f.getall("A"), len(f), list(f)), ("1", ["1", "3"], 2, ["A", "b"]))
        self.assertNotIn("c", f)


if __name__ == "__main__":
    unittest.main()

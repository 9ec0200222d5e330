"""Tests of swco.websocket (stdlib unittest; run by make check through
run-tests.sh).

The servers run in their own Python process (test_server.ServerProcess)
and print what their events saw; the clients are python3-websockets
(asyncio, with and without permessage-deflate) and swco's own coroutine
client.  Nothing waits by the clock: every wait is for a message or a
line, with a generous safety limit.
"""

import asyncio
import os
import textwrap
import unittest

import swco
import swco.http
import swco.websocket
from test_server import LIMIT, ServerProcess

try:
    import websockets
    import websockets.exceptions
except ImportError:  # python3-websockets
    websockets = None

ECHO_SERVER = """
    # one worker: broadcast in BASE mode reaches the calling worker's connections
    srv = swco.websocket.Server("127.0.0.1", 0, worker_num=1, websocket_compression=True)

    @srv.handler
    def plain(req, resp):
        return "plain http"

    def handshake(req, resp):
        if req.path != "/ws":
            return 404
        resp.header("X-Hello", "yes")

    def on_open(srv, req):
        say("open", req.path, req.query.get("who", "-"))

    def on_message(srv, frame):
        if frame.data == "broadcast":
            n = srv.broadcast("to all")
            say("broadcast", n)
            return
        if frame.data == "bye":
            srv.disconnect(frame.fd, 4000, "asked to go")
            return
        srv.push(frame.fd, frame.data)

    def on_close(srv, fd, code, reason):
        say("close", code, reason or "-")

    srv.on("handshake", handshake)
    srv.on("open", on_open)
    srv.on("message", on_message)
    srv.on("close", on_close)
    say("listening on", srv.port)
    srv.start()
"""


class WebSocketTest(unittest.TestCase):

    def server(self, body):
        return ServerProcess(self, "import swco.websocket\n" + textwrap.dedent(body))

    @unittest.skipIf(websockets is None, "python3-websockets not installed")
    def test_echo_with_python_websockets(self):
        """Text and binary echo, with and without permessage-deflate;
        open and close events; a refused path; plain HTTP on the same
        port."""
        srv = self.server(ECHO_SERVER)
        url = "ws://127.0.0.1:%d/ws" % srv.port

        async def client(compression):
            async with websockets.connect(url + "?who=py", compression=compression,
                                          max_size=None) as ws:
                ext = [e.name for e in ws.extensions]
                self.assertEqual("permessage-deflate" in ext, compression is not None, ext)
                self.assertEqual(ws.response_headers.get("X-Hello"), "yes")
                for i in range(50):
                    msg = ("caf\u00e9 %d " % i) * i if i % 2 else os.urandom(i * 100)
                    await ws.send(msg)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), LIMIT), msg)
                await ws.close(1000, "done")

        for compression in (None, "deflate"):
            asyncio.run(client(compression))
            self.assertEqual(srv.expect("open "), "open /ws py")
            self.assertEqual(srv.expect("close "), "close 1000 done")

        async def refused():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                async with websockets.connect("ws://127.0.0.1:%d/other" % srv.port):
                    pass
            self.assertEqual(cm.exception.status_code, 404)

        asyncio.run(refused())

        async def disconnected():
            async with websockets.connect(url) as ws:
                await ws.send("bye")
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), LIMIT)
                self.assertEqual((ws.close_code, ws.close_reason), (4000, "asked to go"))

        asyncio.run(disconnected())
        srv.expect("open ")
        self.assertEqual(srv.expect("close "), "close 4000 asked to go")

        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/" % srv.port, timeout=LIMIT) as r:
            self.assertEqual(r.read(), b"plain http")
        self.assertEqual(srv.stop(), 0)

    def test_swco_client_and_broadcast(self):
        """swco's coroutine client: connect with compression, text and
        binary, ping/pong, a broadcast reaching two clients, close."""
        srv = self.server(ECHO_SERVER)
        url = "ws://127.0.0.1:%d/ws" % srv.port
        got = {}

        def main():
            a = swco.websocket.connect(url, compression=True)
            b = swco.websocket.connect(url + "?who=b")
            got["status"] = (a.status, a.compression, b.compression, a.header("X-Hello"))
            a.send("hello")
            got["text"] = a.recv(LIMIT)
            a.send(b"\x00\x01binary")
            got["binary"] = a.recv(LIMIT)
            a.ping(b"p")
            got["pong"] = a.recv(LIMIT)
            a.send("broadcast")
            got["bcast"] = (a.recv(LIMIT).data, b.recv(LIMIT).data)
            a.close(1000, "client done")
            b.close()
            got["close"] = (a.close_code, b.close_code)

        swco.run(main)
        self.assertEqual(got["status"], (101, True, False, "yes"))
        self.assertEqual(got["text"], swco.websocket.Frame(0, "hello", swco.websocket.TEXT))
        self.assertEqual(got["binary"],
                         swco.websocket.Frame(0, b"\x00\x01binary", swco.websocket.BINARY))
        self.assertEqual((got["pong"].opcode, got["pong"].data),
                         (swco.websocket.PONG, b"p"))
        self.assertEqual(got["bcast"], ("to all", "to all"))
        self.assertEqual(srv.expect("broadcast "), "broadcast 2")
        self.assertEqual(got["close"], (1000, 1000))
        self.assertEqual(srv.stop(), 0)

    def test_refused_connect(self):
        """A refused upgrade: the client's connect raises, status says why."""
        srv = self.server(ECHO_SERVER)
        got = {}

        def main():
            c = swco.websocket.Client()
            try:
                c.connect("ws://127.0.0.1:%d/nope" % srv.port, LIMIT)
            except swco.Error as e:
                got["error"] = e.name
            got["status"] = c.status

        swco.run(main)
        self.assertEqual(got, {"error": "EPROTO", "status": 404})
        self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()

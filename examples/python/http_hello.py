#!/usr/bin/env python3
"""http_hello.py - an HTTP/1.1 server in a few lines, on swco.http.

    python3 http_hello.py [--mode base|process] [--workers N] [--port P]

Prints "listening on PORT" first (port 0, the default, picks a free one),
then answers until SIGTERM, which stops it gracefully:
  /            "Hello, World!"
  /hello?name=Ann   a greeting from the query string
  /echo        (POST) the form fields or JSON body it was sent, as JSON
  /ws          a WebSocket that echoes every message
Try it with `curl -d a=1 http://127.0.0.1:PORT/echo`.  Run it from a build
tree with
  LD_LIBRARY_PATH=.libs PYTHONPATH=../bindings/python:bindings/python/.libs \\
      python3 ../examples/python/http_hello.py
"""
import argparse

import swco
import swco.http


def main():
    p = argparse.ArgumentParser(description="HTTP server on swco.http")
    p.add_argument("--mode", choices=("base", "process"), default="base")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()

    mode = swco.SERVER_BASE if args.mode == "base" else swco.SERVER_PROCESS
    srv = swco.http.Server("127.0.0.1", args.port, mode, worker_num=args.workers)

    # each request runs in its own coroutine: it could sleep, use channels,
    # or call other servers while the other requests are served
    @srv.handler
    def handle(req, resp):
        if req.path == "/hello":
            return "Hello, %s!" % req.query.get("name", "stranger")
        if req.path == "/echo":
            if req.headers.get("Content-Type", "").startswith("application/json"):
                return {"json": req.json()}
            return {"form": req.post.to_dict(), "files": list(req.files)}
        resp.header("Content-Type", "text/plain")
        return "Hello, World!"

    # /ws: the same port upgrades to WebSocket, every message echoed
    srv.set(open_websocket_protocol=True, websocket_compression=True)
    srv.on("handshake", lambda req, resp: req.path == "/ws" or 404)
    srv.on("message", lambda srv, frame: srv.push(frame.fd, frame.data, frame.opcode))

    print("listening on", srv.port, flush=True)
    srv.start()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tcp_echo_server.py - a multi-process TCP echo server in a few lines.

    python3 tcp_echo_server.py [--mode base|process] [--workers N] [--port P]

Prints "listening on PORT" first (port 0, the default, picks a free one),
then echoes every byte back until SIGTERM, which stops it
gracefully.  Try it with `nc 127.0.0.1 PORT`.  Run it from a build tree
with
  LD_LIBRARY_PATH=.libs PYTHONPATH=../bindings/python:bindings/python/.libs \\
      python3 ../examples/python/tcp_echo_server.py
"""
import argparse

import swco


def main():
    p = argparse.ArgumentParser(description="TCP echo server on swco.Server")
    p.add_argument("--mode", choices=("base", "process"), default="base")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()

    mode = swco.SERVER_BASE if args.mode == "base" else swco.SERVER_PROCESS
    srv = swco.Server("127.0.0.1", args.port, mode)
    srv.set(worker_num=args.workers)

    # each receive runs in its own coroutine: it could sleep, use channels,
    # or talk to other servers while the other connections are served
    def receive(srv, fd, reactor_id, data):
        srv.send(fd, data)

    srv.on("receive", receive)
    print("listening on", srv.port, flush=True)
    srv.start()


if __name__ == "__main__":
    main()

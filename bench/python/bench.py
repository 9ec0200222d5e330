#!/usr/bin/env python3
"""Python coroutine figures for swco beside greenlet's and asyncio's.

One line per figure, the peers measured in the same run:
  switch      one coroutine switch (a yield/resume pair is two switches)
  round trip  a value sent to another coroutine and an answer sent back
              (swco: two unbuffered Channels; greenlet: switch(value), the
              floor any channel built on it pays; asyncio: two Queues; and,
              where python3-gevent is installed, gevent's greenlet-based
              unbuffered gevent.queue.Channel, the same work as swco's)
  spawn       create a coroutine that ends at once

Run by make bench (or make bench-python) from the build tree.  SWCO_BENCH_N
sets the iteration count (default 200000).
"""
import asyncio
import os
import time

import swco

try:
    import greenlet
except ImportError:  # the peer is optional
    greenlet = None

try:
    import gevent
    import gevent.queue
except ImportError:  # the peer is optional
    gevent = None

N = int(os.environ.get("SWCO_BENCH_N", "200000"))


def best(fn, repeat=3):
    """Best of repeat runs of fn() -> (seconds, operations)."""
    runs = [fn() for _ in range(repeat)]
    return min(runs, key=lambda r: r[0] / r[1])


def ns(result):
    secs, ops = result
    return secs / ops * 1e9


# ------------------------------------------------------------------ swco
def swco_switch():
    out = []

    def main():
        def loop():
            while True:
                swco.yield_()

        cid = swco.go(loop)
        t0 = time.perf_counter()
        for _ in range(N):
            swco.resume(cid)
        out.append(time.perf_counter() - t0)
        swco.cancel(cid)

    swco.run(main)
    return out[0], 2 * N


def swco_round_trip():
    out = []

    def main():
        ping, pong = swco.Channel(0), swco.Channel(0)

        def echo():
            for _ in range(N):
                pong.push(ping.pop())

        swco.go(echo)
        t0 = time.perf_counter()
        for i in range(N):
            ping.push(i)
            pong.pop()
        out.append(time.perf_counter() - t0)

    swco.run(main)
    return out[0], N


def swco_spawn():
    out = []

    def main():
        nothing = lambda: None  # noqa: E731
        t0 = time.perf_counter()
        for _ in range(N // 10):
            swco.go(nothing)
        out.append(time.perf_counter() - t0)

    swco.run(main)
    return out[0], N // 10


# -------------------------------------------------------------- greenlet
def greenlet_switch():
    main = greenlet.getcurrent()

    def loop():
        while True:
            main.switch()

    g = greenlet.greenlet(loop)
    t0 = time.perf_counter()
    for _ in range(N):
        g.switch()
    t = time.perf_counter() - t0
    g.throw(greenlet.GreenletExit)
    return t, 2 * N


def greenlet_round_trip():
    main = greenlet.getcurrent()

    def echo(v):
        while True:
            v = main.switch(v)

    g = greenlet.greenlet(echo)
    t0 = time.perf_counter()
    for i in range(N):
        g.switch(i)
    t = time.perf_counter() - t0
    g.throw(greenlet.GreenletExit)
    return t, N


def greenlet_spawn():
    nothing = lambda: None  # noqa: E731
    t0 = time.perf_counter()
    for _ in range(N // 10):
        greenlet.greenlet(nothing).switch()
    return time.perf_counter() - t0, N // 10


def gevent_round_trip():
    ping, pong = gevent.queue.Channel(), gevent.queue.Channel()

    def echo():
        for _ in range(N):
            pong.put(ping.get())

    task = gevent.spawn(echo)
    t0 = time.perf_counter()
    for i in range(N):
        ping.put(i)
        pong.get()
    t = time.perf_counter() - t0
    task.join()
    return t, N


# --------------------------------------------------------------- asyncio
def asyncio_switch():
    async def loop(n):
        for _ in range(n):
            await asyncio.sleep(0)

    async def main():
        t0 = time.perf_counter()
        await asyncio.gather(loop(N // 2), loop(N // 2))
        return time.perf_counter() - t0

    # each sleep(0) is one task leaving and one entering: count it once
    return asyncio.run(main()), N


def asyncio_round_trip():
    async def main():
        ping, pong = asyncio.Queue(1), asyncio.Queue(1)

        async def echo():
            for _ in range(N):
                await pong.put(await ping.get())

        task = asyncio.ensure_future(echo())
        t0 = time.perf_counter()
        for i in range(N):
            await ping.put(i)
            await pong.get()
        t = time.perf_counter() - t0
        await task
        return t

    return asyncio.run(main()), N


def asyncio_spawn():
    async def nothing():
        pass

    async def main():
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        tasks = [loop.create_task(nothing()) for _ in range(N // 10)]
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0

    return asyncio.run(main()), N // 10


def line(what, swco_fn, greenlet_fn, asyncio_fn):
    parts = ["swco %.0f ns" % ns(best(swco_fn))]
    if greenlet is not None:
        parts.append("greenlet %.0f ns" % ns(best(greenlet_fn)))
    else:
        parts.append("greenlet n/a")
    parts.append("asyncio %.0f ns" % ns(best(asyncio_fn)))
    print("python %-11s %s" % (what + ":", ", ".join(parts)), flush=True)


def main():
    print("python coroutines (N=%d, best of 3; greenlet %s)"
          % (N, greenlet.__version__ if greenlet else "not installed"))
    line("switch", swco_switch, greenlet_switch, asyncio_switch)
    line("round trip", swco_round_trip, greenlet_round_trip, asyncio_round_trip)
    if gevent is not None:
        print("python round trip, gevent %s Channel: %.0f ns"
              % (gevent.__version__, ns(best(gevent_round_trip))), flush=True)
    else:
        print("python round trip, gevent: not installed, skipped (python3-gevent)")
    line("spawn", swco_spawn, greenlet_spawn, asyncio_spawn)


if __name__ == "__main__":
    main()

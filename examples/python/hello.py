#!/usr/bin/env python3
"""hello.py - a first swco program: coroutines, a channel and a WaitGroup.

Run it from a build tree with
  LD_LIBRARY_PATH=.libs PYTHONPATH=../bindings/python:bindings/python/.libs \
      python3 ../examples/python/hello.py
or, after make install, just python3 hello.py.
"""
import time

import swco


def worker(n, results, wg):
    """Pretend to fetch something: wait n/10 s, then send the answer."""
    swco.sleep(n / 10)
    results.push("worker %d done after %.1f s" % (n, n / 10))
    wg.done()


def main():
    start = time.monotonic()
    results = swco.Channel(10)
    wg = swco.WaitGroup()
    for n in (3, 1, 2):
        wg.add()
        swco.go(worker, n, results, wg)   # starts at once, returns when it waits
    wg.wait()                             # the three sleep at the same time
    results.close()
    for line in results:
        print(line)
    print("all done in %.1f s (not 0.6 s: they ran concurrently)" % (time.monotonic() - start))


swco.run(main)

"""Tests of the swco Python binding (stdlib unittest; run by make check)."""

import contextvars
import errno
import gc
import io
import os
import shutil
import signal
import socket as _socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import weakref

import swco

# Time limits stretch on slow runs (sanitizers, valgrind), as in the C suites.
SLOW = max(1.0, float(os.environ.get("SWCO_TEST_SLOW", "1")))


class Captured:
    """Collect what swco.excepthook reports instead of printing it."""

    def __init__(self):
        self.reports = []

    def __enter__(self):
        self.saved = swco.excepthook
        swco.excepthook = self.hook
        return self

    def hook(self, cid, exc):
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.reports.append((cid, exc, text))

    def __exit__(self, *exc):
        swco.excepthook = self.saved
        return False


class TestBasics(unittest.TestCase):
    def test_run_and_go_order(self):
        order = []

        def child():
            order.append("child start")
            swco.sleep(0.01)
            order.append("child end")

        def main():
            order.append("main start")
            cid = swco.go(child)
            self.assertGreater(cid, 0)
            order.append("main after go")

        swco.run(main)
        self.assertEqual(order, ["main start", "child start", "main after go", "child end"])

    def test_run_returns_value_of_nothing_and_reraises(self):
        def main():
            raise KeyError("from main")

        with self.assertRaises(KeyError):
            swco.run(main)

    def test_cid_and_pcid(self):
        seen = {}

        def child():
            seen["cid"] = swco.getcid()
            seen["pcid"] = swco.getpcid()

        def main():
            seen["main"] = swco.getcid()
            swco.go(child)

        swco.run(main)
        self.assertEqual(swco.getcid(), -1)
        self.assertEqual(seen["pcid"], seen["main"])
        self.assertNotEqual(seen["cid"], seen["main"])

    def test_thousand_sleepers(self):
        starts, ends = {}, {}

        def sleeper(i):
            starts[i] = time.monotonic()
            swco.sleep(0.2)
            ends[i] = time.monotonic()

        def main():
            for i in range(1000):
                swco.go(sleeper, i)

        swco.run(main)
        self.assertEqual(sorted(ends), list(range(1000)))
        # All 1000 sleeps were in progress at one moment (run one after
        # another they could not be) and each lasted its 0.2 s.  Nothing is
        # timed from above: a loaded machine may take any time.
        self.assertLess(max(starts.values()), min(ends.values()))
        self.assertGreaterEqual(min(ends[i] - starts[i] for i in ends), 0.19)

    def test_defer_lifo_after_exception(self):
        order = []

        def child():
            swco.defer(order.append, 1)
            swco.defer(order.append, 2)
            swco.sleep(0.001)
            raise RuntimeError("boom")

        with Captured() as cap:
            swco.run(lambda: swco.go(child))
        self.assertEqual(order, [2, 1])
        self.assertEqual(len(cap.reports), 1)

    def test_yield_resume_cancel(self):
        log = []

        def waiter():
            swco.yield_()
            log.append("resumed")
            try:
                swco.yield_()
            except swco.CancelledError as exc:
                log.append(("cancelled", exc.code))
                raise

        def main():
            cid = swco.go(waiter)
            swco.resume(cid)
            self.assertTrue(swco.exists(cid))
            swco.cancel(cid)
            self.assertFalse(swco.exists(cid))

        swco.run(main)
        self.assertEqual(log, ["resumed", ("cancelled", -errno.ECANCELED)])

    def test_backtrace_of_a_suspended_coroutine(self):
        out = {}

        def inner_wait():
            swco.sleep(10)

        def outer_work():
            inner_wait()

        def main():
            cid = swco.go(outer_work)
            bt = swco.backtrace(cid)
            out["names"] = [f.name for f in bt]
            out["line"] = bt[-2].line
            out["self"] = [f.name for f in swco.backtrace()]
            swco.cancel(cid)
            with self.assertRaises(swco.Error) as cm:
                swco.backtrace(cid)
            out["gone"] = cm.exception.name

        swco.run(main)
        # the innermost frame is swco.sleep itself
        self.assertEqual(out["names"][-3:], ["outer_work", "inner_wait", "sleep"])
        self.assertEqual(out["line"], "swco.sleep(10)")
        self.assertIn("main", out["self"])
        self.assertEqual(out["gone"], "SWCO_ENOCO")

    def test_configure_max_coroutine(self):
        saved = swco.configure()
        out = {}

        def main():
            swco.configure(max_coroutine=3)
            try:
                for _ in range(5):
                    swco.go(swco.sleep, 0.01)
            except swco.Error as exc:
                out["code"] = exc.code
            finally:
                swco.configure(max_coroutine=saved["max_coroutine"])

        swco.run(main)
        self.assertEqual(out["code"], _swco_code("SWCO_ECOLIMIT"))
        self.assertEqual(swco.configure(), saved)
        with self.assertRaises(swco.Error):
            swco.configure(log_level="loud")

    def test_list_and_stats(self):
        def main():
            cids = [swco.go(swco.sleep, 0.01) for _ in range(3)]
            live = swco.list_coroutines()
            for c in cids:
                self.assertIn(c, live)
            self.assertGreaterEqual(swco.stats()["live"], 4)

        swco.run(main)
        self.assertEqual(swco.list_coroutines(), [])


class TestInterpreterState(unittest.TestCase):
    """A yield must bring each coroutine's interpreter state back intact."""

    def test_yield_inside_except(self):
        results = {}

        def worker(name, exc_type):
            try:
                raise exc_type(name)
            except exc_type:
                swco.sleep(0.01)
                results[name] = sys.exc_info()[1]
                try:
                    raise
                except exc_type as again:
                    results[name + " reraise"] = again
            results[name + " after"] = sys.exc_info()

        def main():
            swco.go(worker, "a", ValueError)
            swco.go(worker, "b", KeyError)
            # main itself handles nothing while they wait
            self.assertEqual(sys.exc_info(), (None, None, None))

        swco.run(main)
        self.assertIsInstance(results["a"], ValueError)
        self.assertIsInstance(results["b"], KeyError)
        self.assertIs(results["a reraise"], results["a"])
        self.assertIs(results["b reraise"], results["b"])
        self.assertEqual(results["a after"], (None, None, None))
        self.assertEqual(results["b after"], (None, None, None))

    def test_exception_context_after_yield(self):
        out = {}

        def worker(name):
            try:
                raise KeyError(name)
            except KeyError:
                swco.sleep(0.005)
                try:
                    raise ValueError(name)
                except ValueError as exc:
                    out[name] = exc.__context__

        def main():
            swco.go(worker, "a")
            swco.go(worker, "b")

        swco.run(main)
        self.assertEqual(out["a"].args, ("a",))
        self.assertEqual(out["b"].args, ("b",))
        self.assertIsInstance(out["a"], KeyError)

    def test_yield_inside_generator(self):
        out = {}

        def gen(name, n):
            for i in range(n):
                swco.sleep(0.001)
                yield "%s%d" % (name, i)

        def worker(name, n):
            out[name] = list(gen(name, n))

        def gen_in_except():
            try:
                raise IndexError("g")
            except IndexError:
                swco.sleep(0.002)
                yield sys.exc_info()[0]

        def main():
            swco.go(worker, "x", 5)
            swco.go(worker, "y", 3)
            swco.go(lambda: out.__setitem__("exc", list(gen_in_except())))

        swco.run(main)
        self.assertEqual(out["x"], ["x0", "x1", "x2", "x3", "x4"])
        self.assertEqual(out["y"], ["y0", "y1", "y2"])
        self.assertEqual(out["exc"], [IndexError])

    def test_yield_in_nested_frames(self):
        out = {}

        def nest(depth, name):
            if depth == 0:
                before = len(traceback.extract_stack())
                swco.sleep(0.01)
                after = len(traceback.extract_stack())
                out[name + " frames"] = (before, after)
                return 0
            local = depth * 3
            r = nest(depth - 1, name)
            return r + local

        def main():
            swco.go(lambda: out.__setitem__("a", nest(50, "a")))
            swco.go(lambda: out.__setitem__("b", nest(20, "b")))

        swco.run(main)
        self.assertEqual(out["a"], 3 * sum(range(51)))
        self.assertEqual(out["b"], 3 * sum(range(21)))
        self.assertEqual(out["a frames"][0], out["a frames"][1])
        self.assertEqual(out["b frames"][0], out["b frames"][1])
        self.assertEqual(out["a frames"][0] - out["b frames"][0], 30)

    def test_contextvar(self):
        var = contextvars.ContextVar("var", default="unset")
        out = {}

        def worker(name):
            out[name + " inherited"] = var.get()
            var.set(name)
            swco.sleep(0.01)
            out[name] = var.get()

        def main():
            var.set("main")
            swco.go(worker, "a")
            swco.go(worker, "b")
            out["main"] = var.get()

        swco.run(main)
        self.assertEqual(out["a"], "a")
        self.assertEqual(out["b"], "b")
        self.assertEqual(out["a inherited"], "main")
        self.assertEqual(out["main"], "main")
        self.assertEqual(var.get(), "unset")  # run() works in a copy

    def test_traceback_ends_at_coroutine_entry(self):
        out = {}

        def child():
            swco.sleep(0.001)
            out["stack"] = [f.name for f in traceback.extract_stack()]

        def main():
            swco.go(child)

        swco.run(main)
        self.assertEqual(out["stack"][-1], "child")
        self.assertNotIn("main", out["stack"])
        self.assertNotIn("test_traceback_ends_at_coroutine_entry", out["stack"])

    def test_settrace_sees_coroutines(self):
        calls = []

        def tracer(frame, event, arg):
            if event == "call" and frame.f_code.co_name.startswith("traced_"):
                calls.append(frame.f_code.co_name)

        def traced_inner():
            return 1

        def traced_child():
            swco.sleep(0.005)
            traced_inner()

        def main():
            swco.go(traced_child)
            swco.sleep(0.01)
            traced_inner()

        sys.settrace(tracer)
        try:
            swco.run(main)
        finally:
            sys.settrace(None)
        self.assertEqual(sorted(calls), ["traced_child", "traced_inner", "traced_inner"])

    def test_recursion_error_not_segfault(self):
        out = {}

        def recurse(n):
            return recurse(n + 1) + 1

        def nested_repr():
            lst = []
            for _ in range(200000):
                lst = [lst]
            try:
                repr(lst)
            except RecursionError:
                out["c"] = True

        def child():
            swco.sleep(0.001)
            try:
                recurse(0)
            except RecursionError:
                out["py"] = True
            nested_repr()
            swco.sleep(0.001)  # still a working coroutine
            out["after"] = True

        swco.run(lambda: swco.go(child))
        self.assertEqual(out, {"py": True, "c": True, "after": True})


class TestChannel(unittest.TestCase):
    def test_ping_pong(self):
        got = []

        def producer(chan):
            for i in range(100):
                chan.push({"n": i})
            chan.close()

        def consumer(chan):
            for item in chan:
                got.append(item["n"])

        def main():
            chan = swco.Channel(4)
            swco.go(consumer, chan)
            swco.go(producer, chan)

        swco.run(main)
        self.assertEqual(got, list(range(100)))

    def test_unbuffered_identity(self):
        obj = object()
        out = []

        def main():
            chan = swco.Channel(0)
            swco.go(lambda: out.append(chan.pop()))
            chan.push(obj)

        swco.run(main)
        self.assertIs(out[0], obj)

    def test_holds_and_releases_references(self):
        class Item:
            pass

        item = Item()
        ref = weakref.ref(item)
        chan = swco.Channel(2)
        swco.run(chan.push, item)
        del item
        gc.collect()
        self.assertIsNotNone(ref(), "the channel must hold its values")
        self.assertEqual(len(chan), 1)
        del chan
        gc.collect()
        self.assertIsNone(ref(), "freeing the channel must release its values")

    def test_timeout_and_closed(self):
        out = {}

        def main():
            chan = swco.Channel(1)
            t0 = time.monotonic()
            try:
                chan.pop(timeout=0.05)
            except swco.TimeoutError as exc:
                out["timeout"] = exc
            out["waited"] = time.monotonic() - t0
            chan.push(1)
            try:
                chan.push(2, timeout=0.01)
            except TimeoutError:  # the builtin works too
                out["full"] = True
            chan.close()
            self.assertFalse(chan.close())
            out["drain"] = chan.pop()
            try:
                chan.pop()
            except swco.ClosedError as exc:
                out["closed"] = exc.code

        swco.run(main)
        self.assertEqual(out["timeout"].code, -errno.ETIMEDOUT)
        self.assertIsInstance(out["timeout"], swco.Error)
        self.assertGreaterEqual(out["waited"], 0.04)
        self.assertTrue(out["full"])
        self.assertEqual(out["drain"], 1)
        self.assertEqual(out["closed"], _swco_code("SWCO_ECLOSED"))


class TestChannelType(unittest.TestCase):
    """swco.Channel and yield_/resume are C: what Python used to check."""

    def test_bad_arguments(self):
        for cap in ("3", 1.5, None):
            with self.assertRaises(TypeError):
                swco.Channel(cap)
        with self.assertRaises(swco.Error) as cm:
            swco.Channel(capacity=-1)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        with self.assertRaises(OverflowError):
            swco.Channel(2 ** 70)
        with self.assertRaisesRegex(TypeError, "size"):
            swco.Channel(size=1)
        with self.assertRaises(TypeError):
            swco.Channel(1, 2)
        self.assertEqual(swco.Channel(True).capacity, 1)  # an int, as isinstance() said
        self.assertEqual(swco.Channel(capacity=3).capacity, 3)

        chan = swco.Channel(1)
        obj = object()
        base = sys.getrefcount(obj)
        with self.assertRaisesRegex(TypeError, "value"):
            chan.push()
        with self.assertRaises(TypeError):
            chan.push(obj, 1, 2)
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'bogus'"):
            chan.push(obj, bogus=1)
        with self.assertRaisesRegex(TypeError, "multiple values for argument 'value'"):
            chan.push(obj, value=obj)
        with self.assertRaises(TypeError):
            chan.push(obj, timeout=None)
        with self.assertRaises(ValueError):  # float("soon")
            chan.push(obj, timeout="soon")
        with self.assertRaises(TypeError):
            chan.pop(1, 2)
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'value'"):
            chan.pop(value=1)
        with self.assertRaises(TypeError):
            chan.close(1)
        self.assertEqual(sys.getrefcount(obj), base)
        self.assertEqual(len(chan), 0)
        with self.assertRaises(AttributeError):
            chan.capacity = 3
        with self.assertRaises(AttributeError):
            chan.other = 1  # no __dict__, as with __slots__

    def test_timeout_forms(self):
        out = []

        class Seconds:
            def __float__(self):
                return 0.01

        def main():
            chan = swco.Channel(1)
            for call in (lambda: chan.pop(0.01), lambda: chan.pop(timeout=0.01),
                         lambda: chan.pop(timeout=Seconds()), lambda: chan.pop("0.01")):
                try:
                    call()
                except swco.TimeoutError:
                    out.append("pop")
            chan.push(value=1, timeout=1)
            for call in (lambda: chan.push(2, 0.01), lambda: chan.push(2, timeout=0.01),
                         lambda: chan.push(value=2, timeout=Seconds())):
                try:
                    call()
                except swco.TimeoutError:
                    out.append("push")
            out.append(chan.pop(timeout=-1))

        swco.run(main)
        self.assertEqual(out, ["pop"] * 4 + ["push"] * 3 + [1])

    def test_value_references(self):
        obj = object()
        base = sys.getrefcount(obj)
        chan = swco.Channel(2)
        chan.push(obj)
        self.assertEqual(sys.getrefcount(obj), base + 1, "the channel holds the value")
        got = chan.pop()
        self.assertIs(got, obj)
        del got
        self.assertEqual(sys.getrefcount(obj), base, "pop hands the reference over")
        chan.close()
        with self.assertRaises(swco.ClosedError):
            chan.push(obj)
        self.assertEqual(sys.getrefcount(obj), base, "a failed push keeps no reference")

        def main():
            ping, pong = swco.Channel(0), swco.Channel(0)
            swco.go(lambda: pong.push(ping.pop()))
            ping.push(obj)
            self.assertIs(pong.pop(), obj)
            with self.assertRaises(swco.TimeoutError):
                ping.push(obj, timeout=0.01)

        swco.run(main)
        self.assertEqual(sys.getrefcount(obj), base)

    def test_subclass_and_weakref(self):
        class Named(swco.Channel):
            def __init__(self, name, capacity=0):
                super().__init__(capacity)
                self.name = name

            def push(self, value, timeout=swco.FOREVER):
                super().push((self.name, value), timeout)

        chan = Named("n", 2)
        chan.push(1)
        self.assertEqual(chan.pop(), ("n", 1))
        self.assertIsInstance(chan, swco.Channel)
        self.assertEqual((chan.capacity, chan.name), (2, "n"))
        dead = []
        ref = weakref.ref(chan, dead.append)
        self.assertIs(ref(), chan)
        del chan
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(len(dead), 1)
        plain = swco.Channel()
        self.assertIs(weakref.ref(plain)(), plain)
        self.assertIs(type(plain), swco.Channel)

        class Skipped(swco.Channel):
            def __init__(self):
                pass  # no channel: every call fails as for a NULL one

        lost = Skipped()
        for call in (lambda: lost.push(1), lost.pop, lost.close, lambda: len(lost),
                     lambda: lost.closed, lambda: lost.capacity):
            with self.assertRaises(swco.Error) as cm:
                call()
            self.assertEqual(cm.exception.code, -errno.EINVAL)

    def test_init_again_closes_the_old_channel(self):
        class Item:
            pass

        out = []

        def waiter(chan):
            with self.assertRaises(swco.ClosedError):
                chan.pop()
            out.append("closed")

        def main():
            chan = swco.Channel(2)
            item = Item()
            ref = weakref.ref(item)
            chan.push(item)
            del item
            chan.__init__(5)
            out.append(ref())
            swco.go(waiter, chan)
            self.assertEqual(chan.consumers, 1)
            chan.__init__(1)
            swco.sleep(0.01)
            out.append((chan.capacity, len(chan), chan.closed, chan.consumers))

        swco.run(main)
        self.assertEqual(out, [None, "closed", (1, 0, False, 0)])

    def test_iteration_and_waiter_counts(self):
        out = {}

        def main():
            chan = swco.Channel(0)
            swco.go(chan.push, "a")
            swco.go(chan.push, "b")
            out["producers"] = (chan.producers, chan.consumers)
            it = iter(chan)
            self.assertIs(iter(it), it)
            out["first"] = [next(it), next(it)]
            swco.go(lambda: out.setdefault("rest", list(it)))
            out["consumers"] = chan.consumers
            chan.close()
            swco.sleep(0.01)
            with self.assertRaises(StopIteration):
                next(it)

        swco.run(main)
        self.assertEqual(out, {"producers": (2, 0), "first": ["a", "b"], "consumers": 1,
                               "rest": []})
        with self.assertRaises(swco.Error):  # pop outside a coroutine: finished after
            it = iter(swco.Channel(0))
            next(it)
        with self.assertRaises(StopIteration):
            next(it)

    def test_waiting_coroutine_backtrace_ends_at_the_call(self):
        out = {}

        def blocked(chan):
            with self.assertRaises(swco.ClosedError):
                chan.pop()

        def main():
            chan = swco.Channel(0)
            cid = swco.go(blocked, chan)
            bt = swco.backtrace(cid)
            out["last"] = (bt[-1].name, bt[-1].line)
            chan.close()

        swco.run(main)
        self.assertEqual(out["last"], ("blocked", "chan.pop()"))  # pop has no Python frame

    def test_yield_resume_arguments(self):
        out = []

        def waiter():
            out.append(swco.yield_())

        def main():
            cid = swco.go(waiter)
            out.append(swco.resume(cid=cid))
            with self.assertRaises(TypeError):
                swco.resume(str(cid))
            with self.assertRaises(TypeError):
                swco.resume()
            with self.assertRaises(TypeError):
                swco.yield_(1)
            with self.assertRaises(swco.Error) as cm:
                swco.resume(10 ** 9)
            out.append(cm.exception.name)

        swco.run(main)
        self.assertEqual(out, [None, None, "SWCO_ENOCO"])
        with self.assertRaises(swco.Error) as cm:
            swco.yield_()
        self.assertEqual(cm.exception.name, "SWCO_ENOTCO")


def _swco_code(name):
    import _swco
    return getattr(_swco, name)


class TestErrors(unittest.TestCase):
    def test_bad_arguments(self):
        with self.assertRaises(swco.Error) as cm:
            swco.Channel(-1)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        self.assertEqual(cm.exception.name, "EINVAL")
        self.assertIn("nvalid", str(cm.exception))
        with self.assertRaises(swco.Error) as cm:
            swco.sleep(-1)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        with self.assertRaises(swco.Error) as cm:
            swco.WaitGroup().add(-1)
        self.assertEqual(cm.exception.code, -errno.ERANGE)
        with self.assertRaises(swco.Error) as cm:
            swco.clear(10 ** 9)
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOTIMER"))
        with self.assertRaises(swco.Error) as cm:
            swco.Channel(0).pop()  # would wait outside a coroutine
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOTCO"))
        with self.assertRaises(swco.Error) as cm:
            swco.go(42)
        self.assertEqual(cm.exception.code, -errno.EINVAL)

    def test_run_inside_coroutine(self):
        out = {}

        def main():
            try:
                swco.run(lambda: None)
            except swco.Error as exc:
                out["code"] = exc.code

        swco.run(main)
        self.assertEqual(out["code"], _swco_code("SWCO_ECOSTATE"))

    def test_exception_reported_others_go_on(self):
        done = []

        def bad():
            swco.sleep(0.01)
            1 / 0

        def good(i):
            swco.sleep(0.02)
            done.append(i)

        def main():
            for i in range(3):
                swco.go(good, i)
            swco.go(bad)

        with Captured() as cap:
            swco.run(main)
        self.assertEqual(sorted(done), [0, 1, 2])
        self.assertEqual(len(cap.reports), 1)
        cid, exc, text = cap.reports[0]
        self.assertIsInstance(exc, ZeroDivisionError)
        self.assertIn("in bad", text)
        self.assertGreater(cid, 0)

    def test_default_report_goes_to_stderr(self):
        err = io.StringIO()
        saved = sys.stderr
        sys.stderr = err
        try:
            swco.run(lambda: swco.go(lambda: {}["missing"]))
        finally:
            sys.stderr = saved
        self.assertIn("swco: unhandled exception in coroutine", err.getvalue())
        self.assertIn("KeyError: 'missing'", err.getvalue())

    def test_deadlock_cancels_and_unwinds(self):
        log = []

        def stuck(chan):
            try:
                chan.pop()
            except swco.CancelledError:
                log.append("cancelled")
                raise
            finally:
                log.append("finally")

        def main():
            swco.go(stuck, swco.Channel(0))

        with self.assertRaises(swco.Error) as cm:
            swco.run(main)
        self.assertEqual(cm.exception.code, _swco_code("SWCO_EDEADLOCK"))
        self.assertEqual(log, ["cancelled", "finally"])


class TestCancel(unittest.TestCase):
    def test_cancel_channel_waiter_and_timeouts(self):
        log = []

        def popper(chan):
            try:
                chan.pop()
            except swco.CancelledError:
                log.append("cancelled")

        def main():
            chan = swco.Channel(0)
            cid = swco.go(popper, chan)
            self.assertEqual(chan.consumers, 1)
            swco.cancel(cid)
            self.assertEqual(chan.consumers, 0)
            wg = swco.WaitGroup(1)
            with self.assertRaises(swco.TimeoutError):
                wg.wait(0.01)
            mutex = swco.Mutex()
            mutex.lock()

            def locker():
                try:
                    mutex.lock(0.01)
                except swco.TimeoutError:
                    log.append("lock timeout")

            swco.go(locker)
            swco.sleep(0.03)
            mutex.unlock()
            with self.assertRaises(swco.Error) as cm:
                mutex.unlock()
            self.assertEqual(cm.exception.code, -errno.EPERM)

        swco.run(main)
        self.assertEqual(log, ["cancelled", "lock timeout"])

    def test_timer_exception_reported(self):
        with Captured() as cap:
            swco.run(lambda: swco.after(0.001, lambda: [][1]))
        self.assertEqual(len(cap.reports), 1)
        self.assertIsInstance(cap.reports[0][1], IndexError)


class TestTimersAndSync(unittest.TestCase):
    def test_after_tick_clear(self):
        log = []

        def main():
            swco.after(0.02, log.append, "after")
            ticks = []
            stopped = []

            def on_tick():
                ticks.append(1)
                swco.sleep(0.001)  # a timer callback is a coroutine
                # On a loaded machine another tick may land during the
                # sleep: stop once, at the third tick or later.
                if len(ticks) >= 3 and not stopped:
                    stopped.append(1)
                    swco.clear(tid)
                    log.append("ticks")

            tid = swco.tick(0.005, on_tick)
            cancelled = swco.after(0.01, log.append, "never")
            swco.clear(cancelled)

        swco.run(main)
        self.assertEqual(sorted(log), ["after", "ticks"])

    def test_timer_callback_released(self):
        class Cb:
            def __call__(self):
                pass

        cb = Cb()
        ref = weakref.ref(cb)
        swco.run(swco.after, 0.001, cb)
        del cb
        gc.collect()
        self.assertIsNone(ref())

    def test_waitgroup_and_mutex(self):
        inside = []
        order = []

        def worker(i, wg, mutex):
            with mutex:
                inside.append(i)
                self.assertEqual(len(inside), 1)
                swco.sleep(0.002)
                inside.remove(i)
                order.append(i)
            wg.done()

        def main():
            wg = swco.WaitGroup()
            mutex = swco.Mutex()
            for i in range(5):
                wg.add()
                swco.go(worker, i, wg, mutex)
            self.assertEqual(wg.count, 5)
            wg.wait()
            self.assertFalse(mutex.trylock() is False)
            mutex.unlock()
            order.append("waited")

        swco.run(main)
        self.assertEqual(order, [0, 1, 2, 3, 4, "waited"])

    def test_cond(self):
        out = []

        def main():
            mutex, cond = swco.Mutex(), swco.Cond()
            box = []

            def consumer():
                with mutex:
                    while not box:
                        cond.wait(mutex)
                    out.append(box.pop())

            swco.go(consumer)
            with mutex:
                box.append("x")
                cond.notify()

        swco.run(main)
        self.assertEqual(out, ["x"])


def _fork_and_wait(child):
    """Run child() in an os.fork() child; return its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            child()
            code = 0
        except BaseException:  # noqa: B902
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


class TestTable(unittest.TestCase):
    def make(self, size=16):
        return swco.Table(size, columns=[("name", swco.Table.STRING, 8),
                                         ("n", swco.Table.INT),
                                         ("x", swco.Table.DOUBLE)])

    def test_set_get_incr_del(self):
        t = self.make()
        self.assertEqual(t.columns, [("name", swco.Table.STRING), ("n", swco.Table.INT),
                                     ("x", swco.Table.DOUBLE)])
        t["a"] = {"name": "alice", "n": 1}
        self.assertEqual(t["a"], {"name": "alice", "n": 1, "x": 0.0})
        t["a"] = {"x": 2.5}  # only the given columns change
        self.assertEqual(t["a"], {"name": "alice", "n": 1, "x": 2.5})
        self.assertEqual(t.get("a", "name"), "alice")
        self.assertEqual(t.incr("a", "n", 5), 6)
        self.assertEqual(t.decr("a", "n"), 5)
        self.assertEqual(t.incr("a", "x", 0.5), 3.0)
        self.assertEqual(t.incr("new", "n"), 1)  # creates the row
        t["b"] = {"name": b"\xff\x00z"}
        self.assertEqual(t["b"]["name"].encode("utf-8", "surrogateescape"), b"\xff\x00z")
        self.assertEqual(len(t), 3)
        self.assertEqual(sorted(t), ["a", "b", "new"])
        self.assertIn("a", t)
        self.assertNotIn("zz", t)
        del t["new"]
        self.assertNotIn("new", t)
        with self.assertRaises(KeyError):
            del t["new"]
        with self.assertRaises(KeyError):
            t["new"]
        self.assertIsNone(t.get("new"))
        self.assertEqual(len(t), 2)
        self.assertGreater(t.memory_size, 0)
        self.assertEqual(t.stats()["rows_used"], 2)

    def test_column_then_create(self):
        t = swco.Table(4)
        t.column("hits", swco.Table.INT)
        t.create()
        t["k"] = {}
        self.assertEqual(t["k"], {"hits": 0})

    def test_errors_carry_the_code(self):
        t = self.make(4)
        with self.assertRaises(swco.Error) as cm:
            t["k" * 64] = {"n": 1}
        self.assertEqual(cm.exception.code, _swco_code("SWCO_EKEYTOOLONG"))
        with self.assertRaises(swco.Error) as cm:
            t["k"] = {"nope": 1}
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOCOLUMN"))
        self.assertNotIn("k", t)  # unchanged on error
        with self.assertRaises(swco.Error) as cm:
            t.incr("k", "nope")
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOCOLUMN"))
        with self.assertRaises(swco.Error) as cm:
            t["k"] = {"name": "much too long"}
        self.assertEqual(cm.exception.code, _swco_code("SWCO_EVALTOOLONG"))
        with self.assertRaises(swco.Error) as cm:
            for i in range(1000):
                t["key%d" % i] = {"n": i}
        self.assertEqual(cm.exception.code, _swco_code("SWCO_EFULL"))
        with self.assertRaises(TypeError):
            t["k"] = {"n": "one"}
        with self.assertRaises(swco.Error) as cm:
            swco.Table(0)
        self.assertEqual(cm.exception.code, -errno.EINVAL)

    def test_shared_across_fork(self):
        t = self.make()

        def child():
            t["child"] = {"n": os.getpid()}
            t.incr("count", "n", 10)

        t.incr("count", "n", 1)
        pid_before = os.getpid()
        self.assertEqual(_fork_and_wait(child), 0)
        self.assertNotEqual(t["child"]["n"], pid_before)
        self.assertEqual(t["count"]["n"], 11)


class TestTableUpdateAndNamed(unittest.TestCase):
    COLUMNS = [("name", swco.Table.STRING, 8), ("n", swco.Table.INT), ("x", swco.Table.DOUBLE)]

    def test_update_present_and_absent_rows(self):
        t = swco.Table(16, columns=self.COLUMNS)
        t["a"] = {"name": "alice", "n": 1}
        row = t.update("a", lambda row: {"n": row["n"] + 1})
        self.assertEqual(row, {"name": "alice", "n": 2, "x": 0.0})
        self.assertEqual(t["a"], row)
        seen = []
        row = t.update("new", lambda row: seen.append(row) or {"x": 1.5})
        self.assertEqual(seen, [{"name": "", "n": 0, "x": 0.0}])  # created, zero
        self.assertEqual(t["new"], row)
        self.assertEqual(row, {"name": "", "n": 0, "x": 1.5})
        self.assertEqual(t.update("a", lambda row: None), t["a"])  # nothing written
        self.assertEqual(t.update("a", {"name": b"bob"})["name"], "bob")  # a dict
        self.assertEqual(t.update("d", {"n": 4}), {"name": "", "n": 4, "x": 0.0})
        before = t["a"]
        with self.assertRaises(ZeroDivisionError):
            t.update("a", lambda row: 1 / 0)
        with self.assertRaises(swco.Error) as cm:
            t.update("a", {"n": 9, "nope": 1})
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOCOLUMN"))
        with self.assertRaises(TypeError):
            t.update("a", lambda row: {"n": "nine"})
        with self.assertRaises(TypeError):
            t.update("a", lambda row: 5)
        self.assertEqual(t["a"], before)  # unchanged by every failure
        with self.assertRaises(ZeroDivisionError):
            t.update("z", lambda row: 1 / 0)
        self.assertEqual(t["z"], {"name": "", "n": 0, "x": 0.0})  # created, stays
        with self.assertRaises(TypeError):
            t.update("a", 5)
        with self.assertRaises(swco.Error) as cm:
            t.update("k" * 64, {"n": 1})
        self.assertEqual(cm.exception.code, _swco_code("SWCO_EKEYTOOLONG"))

    def test_update_is_atomic_across_processes(self):
        t = swco.Table(4, columns=self.COLUMNS)
        go = swco.Atomic(0)

        def bump(proc, times):
            while not go.get():  # start together
                pass
            for _ in range(times):
                t.update("count", lambda row: {"n": row["n"] + 1, "x": row["x"] + 0.5})

        procs = [swco.Process(bump, 2000, ipc=swco.Process.IPC_NONE) for _ in range(3)]
        for p in procs:
            p.start()
        go.set(1)
        bump(None, 2000)
        self.assertEqual([p.wait(10 * SLOW) for p in procs], [0, 0, 0])
        self.assertEqual(t["count"], {"name": "", "n": 8000, "x": 4000.0})

    def test_named_table_attached_by_another_process(self):
        name = "/swco-test-%d" % os.getpid()
        t = swco.Table(16, columns=self.COLUMNS, name=name)
        try:
            self.assertEqual(t.name, name)
            self.assertIsNone(swco.Table(4, columns=self.COLUMNS).name)
            t["a"] = {"name": "alice", "n": 1}
            second = swco.Table.attach(name, self.COLUMNS)  # a second handle here
            self.assertEqual(second["a"], {"name": "alice", "n": 1, "x": 0.0})
            self.assertEqual(second.incr("a", "n", 2), 3)
            self.assertEqual(t["a"]["n"], 3)
            self.assertEqual(second.stats()["capacity"], t.stats()["capacity"])

            def child(proc):
                mine = swco.Table.attach(name, TestTableUpdateAndNamed.COLUMNS)
                mine.update("child", {"n": os.getpid()})
                mine.update("a", lambda row: {"n": row["n"] * 10})

            proc = swco.Process(child, ipc=swco.Process.IPC_NONE)
            pid = proc.start()
            self.assertEqual(proc.wait(10 * SLOW), 0)
            self.assertEqual(t["child"]["n"], pid)
            self.assertEqual(second["a"]["n"], 30)
            with self.assertRaises(swco.Error) as cm:
                swco.Table(16, columns=self.COLUMNS, name=name)
            self.assertEqual(cm.exception.code, -errno.EEXIST)
            with self.assertRaises(swco.Error) as cm:
                swco.Table.attach(name, self.COLUMNS[:2])
            self.assertEqual(cm.exception.code, _swco_code("SWCO_ESCHEMA"))
            with self.assertRaises(swco.Error) as cm:
                swco.Table.attach(name, [("name", swco.Table.STRING, 9)] + self.COLUMNS[1:])
            self.assertEqual(cm.exception.code, _swco_code("SWCO_ESCHEMA"))
            with self.assertRaises(swco.Error) as cm:
                swco.Table.attach(name + "-none", self.COLUMNS)
            self.assertEqual(cm.exception.code, -errno.ENOENT)
            later = swco.Table(4, name=name + "-later")  # columns, then create()
            later.column("hits", swco.Table.INT)
            later.create()
            swco.Table.unlink(later.name)
        finally:
            swco.Table.unlink(name)
        with self.assertRaises(swco.Error) as cm:
            swco.Table.attach(name, self.COLUMNS)
        self.assertEqual(cm.exception.code, -errno.ENOENT)
        with self.assertRaises(swco.Error) as cm:
            swco.Table.unlink(name)
        self.assertEqual(cm.exception.code, -errno.ENOENT)
        t["b"] = {"n": 5}  # the handles stay usable once the name is gone
        self.assertEqual(second["b"]["n"], 5)


class TestAtomicAndLock(unittest.TestCase):
    def test_atomic_ops(self):
        a = swco.Atomic(5)
        self.assertEqual(a.add(3), 8)
        self.assertEqual(a.sub(), 7)
        a.set(1)
        self.assertEqual(a.get(), 1)
        self.assertFalse(a.cmpset(0, 9))
        self.assertTrue(a.cmpset(1, 9))
        self.assertEqual(a.get(), 9)
        self.assertEqual(swco.Atomic(0).sub(1), 2 ** 32 - 1)  # wraps
        b = swco.Atomic64(-3)
        self.assertEqual(b.add(-4), -7)
        self.assertEqual(b.sub(3), -10)
        self.assertTrue(b.cmpset(-10, 2 ** 40))
        self.assertEqual(b.get(), 2 ** 40)
        self.assertFalse(a.wait(0.01) and False)  # counter at 9: returns at once

    def test_atomic_across_fork(self):
        a, b = swco.Atomic(0), swco.Atomic64(0)

        def child():
            for _ in range(1000):
                a.add(1)
                b.sub(2)
            a.cmpset(4000, 1)

        pids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                child()
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        self.assertEqual(a.get(), 1)  # 4000, then the last child's cmpset
        self.assertEqual(b.get(), -8000)

    def test_wait_wakeup(self):
        flag = swco.Atomic(0)
        self.assertFalse(flag.wait(0.01))

        def child():
            time.sleep(0.05)
            flag.wakeup()

        pid = os.fork()
        if pid == 0:
            child()
            os._exit(0)
        self.assertTrue(flag.wait(5))
        os.waitpid(pid, 0)

    def test_lock_context_manager_across_fork(self):
        lock = swco.Lock(swco.Lock.MUTEX)
        self.assertEqual(lock.kind, swco.Lock.MUTEX)
        with lock:
            self.assertEqual(_fork_and_wait(lambda: os._exit(0 if not lock.trylock() else 3)), 0)
        self.assertTrue(lock.trylock())
        lock.unlock()
        t = swco.Table(4, columns=[("n", swco.Table.INT)])
        t["k"] = {"n": 0}

        def child():
            for _ in range(200):
                with lock:  # read-modify-write without incr()
                    t["k"] = {"n": t["k"]["n"] + 1}

        pids = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                child()
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        self.assertEqual(t["k"]["n"], 600)
        sem = swco.Lock(swco.Lock.SEM, 1)
        self.assertTrue(sem.trylock())
        self.assertFalse(sem.trylock())
        with self.assertRaises(swco.TimeoutError):
            sem.lock(0.01)
        sem.unlock()
        rw = swco.Lock(swco.Lock.RWLOCK)
        self.assertTrue(rw.trylock_read())
        self.assertTrue(rw.trylock_read())
        self.assertFalse(rw.trylock())
        rw.unlock()
        rw.unlock()

    def test_mutex_of_a_dead_holder_is_recovered(self):
        lock = swco.Lock()
        pid = os.fork()
        if pid == 0:
            lock.lock()
            os._exit(0)  # dies holding it
        os.waitpid(pid, 0)
        self.assertFalse(lock.recovered)
        lock.lock(timeout=5)
        self.assertTrue(lock.recovered)
        lock.unlock()

    def test_lock_in_coroutines(self):
        lock = swco.Lock()
        order = []

        def worker(i):
            with lock:
                order.append(("in", i))
                swco.sleep(0.005)
                order.append(("out", i))

        swco.run(lambda: [swco.go(worker, i) for i in range(3)])
        self.assertEqual(order, [("in", 0), ("out", 0), ("in", 1), ("out", 1),
                                 ("in", 2), ("out", 2)])


class TestProcess(unittest.TestCase):
    def test_data_must_be_bytes_like(self):
        # bytes(5) would be five NUL bytes: refused before anything is sent
        proc = swco.Process(lambda p: None)
        proc.use_queue()
        for call in (lambda: proc.write(5), lambda: proc.push(5),
                     lambda: proc.write("text")):
            with self.assertRaises(TypeError):
                call()
        pool = swco.ProcessPool(1)
        for call in (lambda: pool.send(0, 5), lambda: pool.push(3),
                     lambda: pool.reply(2)):
            with self.assertRaises(TypeError):
                call()
        proc.remove_queue()

    def test_echo_and_exit_code(self):
        def child(proc, prefix):
            data = proc.read()
            proc.write(prefix + data.upper())
            raise SystemExit(7)

        proc = swco.Process(child, b"got:")
        pid = proc.start()
        self.assertGreater(pid, 0)
        self.assertEqual(proc.pid, pid)
        self.assertEqual(proc.write(b"hello"), 5)
        self.assertEqual(proc.read(timeout=5), b"got:HELLO")
        self.assertEqual(proc.wait(5), 7)
        self.assertEqual(proc.exit_signal, 0)
        with self.assertRaises(swco.Error):
            proc.start()  # already started

    def test_exception_in_child_and_return(self):
        def bad(proc):
            raise ValueError("child failure")

        proc = swco.Process(bad)
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # the child prints the traceback
        try:
            proc.start()
            self.assertEqual(proc.wait(5), 1)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
        ok = swco.Process(lambda proc: proc.write(b"%d" % os.getpid()))
        pid = ok.start()
        self.assertEqual(ok.read(timeout=5), b"%d" % pid)
        self.assertEqual(ok.wait(5), 0)

    def test_redirect_stdio_and_queue(self):
        def child(proc):
            print("line from", "child")
            proc.push(proc.pop(timeout=5) * 2)

        proc = swco.Process(child, redirect_stdio=True)
        proc.use_queue()
        proc.start()
        proc.push(b"ab")
        data = b""
        while not data.endswith(b"\n"):  # a stream: print() may write in pieces
            chunk = proc.read(timeout=5)
            self.assertTrue(chunk)
            data += chunk
        self.assertEqual(data, b"line from child\n")
        self.assertEqual(proc.wait(5), 0)
        self.assertEqual(proc.pop(timeout=5), b"abab")
        proc.remove_queue()

    def test_kill_and_coroutine_io(self):
        proc = swco.Process(lambda proc: time.sleep(30), ipc=swco.Process.IPC_NONE)
        proc.start()
        proc.kill(signal.SIGKILL)
        self.assertIsNone(proc.wait(5))
        self.assertEqual(proc.exit_signal, signal.SIGKILL)
        out = []

        def main():
            p = swco.Process(lambda p: p.write(p.read()))
            p.start()
            swco.go(lambda: out.append("other"))
            p.write(b"ping")
            out.append(p.read(timeout=5))
            out.append(p.wait(5))

        swco.run(main)
        self.assertEqual(out, ["other", b"ping", 0])


class TestExec(unittest.TestCase):
    def test_exec_outside_and_inside_coroutines(self):
        self.assertEqual(swco.exec("echo hi; exit 3"), (3, "hi\n"))
        self.assertEqual(swco.exec("kill -9 $$")[0], 128 + signal.SIGKILL)
        with self.assertRaises(swco.TimeoutError):
            swco.exec("sleep 5", timeout=0.05)
        out = []
        # A barrier: each command marks that it started, then waits until
        # all three have.  Run one after another, the first would wait for
        # ever (and time out), so finishing proves they ran concurrently.
        gate = tempfile.mkdtemp(prefix="swco-exec-")
        cmd = ("touch %s/$I; until [ -e %s/0 ] && [ -e %s/1 ] && [ -e %s/2 ]; do sleep 0.01; done;"
               " echo $I" % ((gate,) * 4))

        def main():
            for i in range(3):
                swco.go(lambda i=i: out.append(swco.exec("I=%d; %s" % (i, cmd),
                                                         timeout=60 * SLOW)))

        try:
            swco.run(main)
        finally:
            shutil.rmtree(gate)
        self.assertEqual(sorted(out), [(0, "0\n"), (0, "1\n"), (0, "2\n")],
                         "the commands must run concurrently")


class _HttpServer:
    """A small HTTP/1.1 server on swco.Socket for the curl tests, served by
    coroutines of the test's own swco.run() while the client coroutines wait
    in libcurl.  One answer per connection (Connection: close).  Routes:
    /hello, /echo (method and body back), /headers (the request's headers
    back, repeated reply headers), /sleep (0.2 s), /stall (no answer until
    the client hangs up), /redirect (302 to /hello); anything else 404."""

    def __init__(self):
        self.sock = swco.Socket()
        self.sock.set_reuseaddr()
        self.sock.bind("127.0.0.1", 0)
        self.sock.listen(256)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.active = self.peak = 0
        swco.go(self._serve)

    def close(self):
        self.sock.close()  # the accept loop ends

    def _serve(self):
        while True:
            try:
                conn = self.sock.accept(timeout=-1)
            except swco.Error:
                return
            swco.go(self._handle, conn)

    @staticmethod
    def _read_request(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(timeout=5)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = [tuple(p.strip() for p in line.split(":", 1)) for line in lines[1:]]
        length = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
        while len(body) < length:
            chunk = conn.recv(timeout=5)
            if not chunk:
                return None
            body += chunk
        return method, path, headers, body

    def _route(self, conn, method, path, headers, body):
        if path == "/hello":
            return 200, [], b"hello world"
        if path == "/echo":
            return 200, [], method.encode() + b" " + body
        if path == "/headers":
            lines = "".join("%s: %s\n" % (k.lower(), v) for k, v in headers)
            return 200, [("X-Reply", "one"), ("X-Reply", "two")], lines.encode("latin-1")
        if path == "/sleep":
            self.active += 1
            self.peak = max(self.peak, self.active)
            swco.sleep(0.2)
            self.active -= 1
            return 200, [], b"slept"
        if path == "/stall":
            conn.recv(timeout=5)  # b"" once the client gives up
            return None
        if path == "/redirect":
            return 302, [("Location", "/hello")], b""
        return 404, [], b"not found"

    def _handle(self, conn):
        with conn:
            req = self._read_request(conn)
            answer = req and self._route(conn, *req)
            if not answer:
                return
            status, extra, body = answer
            head = "HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n" % (
                status, len(body))
            head += "".join("%s: %s\r\n" % kv for kv in extra) + "\r\n"
            conn.sendall(head.encode("latin-1") + body, timeout=5)


class TestHttpRequest(unittest.TestCase):
    def serve(self, client):
        """Run client(server) in a coroutine beside a _HttpServer."""
        def main():
            server = _HttpServer()
            try:
                client(server)
            finally:
                server.close()
        swco.run(main)

    def tearDown(self):
        swco.curl_cleanup()

    def test_get_post_status_and_headers(self):
        def client(server):
            r = swco.curl_get(server.url + "/hello", timeout=5)
            self.assertIsInstance(r, swco.HttpResponse)
            self.assertEqual((r.status, r.body, r.url), (200, b"hello world",
                                                          server.url + "/hello"))
            self.assertEqual(r.header("content-length"), "11")
            big = bytes(range(256)) * 1000
            r = swco.http_request(server.url + "/echo", "post", body=big, timeout=5)
            self.assertEqual((r.status, r.body), (200, b"POST " + big))
            r = swco.http_request(server.url + "/echo", "PUT", body="é", timeout=5)
            self.assertEqual(r.body, "PUT é".encode())
            r = swco.http_request(server.url + "/echo", "POST", timeout=5)
            self.assertEqual(r.body, b"POST ")
            r = swco.http_request(server.url + "/echo", "DELETE", timeout=5)
            self.assertEqual(r.body, b"DELETE ")
            r = swco.http_request(server.url + "/hello", "HEAD", timeout=5)
            self.assertEqual((r.status, r.body, r.header("Content-Length")), (200, b"", "11"))
            r = swco.curl_get(server.url + "/headers", timeout=5,
                              headers={"X-Test": "yes", "X-Empty": "", b"X-Bytes": b"b"})
            sent = r.body.decode().splitlines()
            for line in ("x-test: yes", "x-empty: ", "x-bytes: b"):
                self.assertIn(line.rstrip(), [s.rstrip() for s in sent])
            self.assertFalse([s for s in sent if s.startswith("expect")])
            r = swco.curl_get(server.url + "/headers", timeout=5,
                              headers=[("X-Rep", "1"), ["X-Rep", "2"]])
            self.assertIn("x-rep: 1\nx-rep: 2\n", r.body.decode())
            self.assertEqual(r.header_values("x-reply"), ["one", "two"])
            self.assertEqual([kv for kv in r.headers if kv[0] == "X-Reply"],
                             [("X-Reply", "one"), ("X-Reply", "two")])
            self.assertIsNone(r.header("X-Absent"))
            r = swco.curl_get(server.url + "/missing", timeout=5)
            self.assertEqual((r.status, r.body), (404, b"not found"))
            r = swco.curl_get(server.url + "/redirect", timeout=5)
            self.assertEqual((r.status, r.header("location")), (302, "/hello"))
            r = swco.curl_get(server.url + "/redirect", timeout=5, follow_redirects=True)
            self.assertEqual((r.status, r.body, r.url), (200, b"hello world",
                                                          server.url + "/hello"))
            self.assertIsNone(r.header("location"))  # the final response's headers

        self.serve(client)

    def test_concurrent_requests_overlap(self):
        spans = []
        n = 100

        def one():
            try:
                start = time.monotonic()
                r = swco.curl_get(url[0] + "/sleep", timeout=20)
                spans.append((start, time.monotonic(), r.status, r.body))
            finally:
                wg.done()

        def client(server):
            url.append(server.url)
            t0 = time.monotonic()
            for _ in range(n):
                wg.add()
                swco.go(one)
            wg.wait(30)
            elapsed.append(time.monotonic() - t0)
            peak.append(server.peak)

        url, elapsed, peak, wg = [], [], [], swco.WaitGroup()
        self.serve(client)
        self.assertEqual(len(spans), n)
        self.assertEqual({(s[2], s[3]) for s in spans}, {(200, b"slept")})
        # By their own start and end times, most requests were in flight at once.
        events = sorted([(s[0], 1) for s in spans] + [(s[1], -1) for s in spans])
        level = most = 0
        for _, delta in events:
            level += delta
            most = max(most, level)
        self.assertGreaterEqual(most, n // 4)
        self.assertGreaterEqual(peak[0], n // 4)

    def test_errors(self):
        import socket
        holder = socket.socket()  # bound, not listening: connections are refused
        holder.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d/" % holder.getsockname()[1]

        def client(server):
            with self.assertRaises(swco.CurlError) as cm:
                swco.curl_get(closed, timeout=5)
            self.assertEqual(cm.exception.curl_code, 7)  # CURLE_COULDNT_CONNECT
            self.assertEqual(cm.exception.name, "SWCO_ECURL")
            self.assertIsInstance(cm.exception, swco.Error)
            self.assertNotIsInstance(cm.exception, swco.TimeoutError)
            self.assertIn("127.0.0.1", str(cm.exception))
            t0 = time.monotonic()
            with self.assertRaises(swco.TimeoutError) as cm:
                swco.curl_get(server.url + "/stall", timeout=0.3)
            # generous: the real proof is the timeout error (/stall would end
            # the transfer with an empty reply after 5 s)
            self.assertLess(time.monotonic() - t0, 4 * SLOW)
            self.assertIsInstance(cm.exception, swco.CurlTimeoutError)
            self.assertIsInstance(cm.exception, swco.CurlError)
            self.assertEqual((cm.exception.curl_code, cm.exception.code), (28, -errno.ETIMEDOUT))
            # a cancelled coroutine leaves its transfer with CancelledError
            out = []

            def stalled():
                try:
                    swco.curl_get(server.url + "/stall", timeout=5)
                except swco.CancelledError:
                    out.append("cancelled")
            cid = swco.go(stalled)
            swco.sleep(0.05)
            swco.cancel(cid)
            deadline = time.monotonic() + 30 * SLOW
            while not out and time.monotonic() < deadline:
                swco.sleep(0.01)
            self.assertEqual(out, ["cancelled"])

        try:
            self.serve(client)
        finally:
            holder.close()
        with self.assertRaises(swco.CurlError) as cm:
            swco.curl_get("http://[::1", timeout=5)
        self.assertEqual(cm.exception.curl_code, 3)  # CURLE_URL_MALFORMAT
        with self.assertRaises(swco.CurlError) as cm:
            swco.curl_get("file:///etc/passwd", timeout=5)
        self.assertEqual(cm.exception.curl_code, 1)  # only http and https
        url = "http://127.0.0.1:1/"
        for kwargs, exc in [
                (dict(url=b"http://x/"), TypeError),
                (dict(url="http://x\0/"), ValueError),
                (dict(url=url, method=5), TypeError),
                (dict(url=url, method="GE T"), ValueError),
                (dict(url=url, method="HEAD", body=b"x"), ValueError),
                (dict(url=url, body=123), TypeError),
                (dict(url=url, headers=5), TypeError),
                (dict(url=url, headers=[("X-A",)]), TypeError),
                (dict(url=url, headers={"X-A": 1}), TypeError),
                (dict(url=url, headers={"X-A": "a\r\nInjected: 1"}), ValueError),
                (dict(url=url, headers={"Bad Name": "x"}), ValueError),
                (dict(url=url, timeout="1"), TypeError)]:
            with self.assertRaises(exc, msg=repr(kwargs)):
                swco.http_request(**kwargs)
        with self.assertRaises(TypeError):
            swco.curl_get(url, method="POST")

    def test_outside_a_coroutine(self):
        # swco_curl_perform() is curl_easy_perform() there, without the
        # GIL: the server thread answers meanwhile.
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"plain " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            r = swco.curl_get("http://127.0.0.1:%d/x" % server.server_address[1], timeout=5)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self.assertEqual((r.status, r.body), (200, b"plain /x"))


class TestAsyncCall(unittest.TestCase):
    def test_runs_on_pool_threads_concurrently(self):
        out = {}
        main_thread = threading.get_ident()

        # The four calls meet at a barrier: run one after another they
        # would break it instead.
        barrier = threading.Barrier(4, timeout=5 * SLOW)

        def blocking(i):
            barrier.wait()  # releases the GIL
            return (i, threading.get_ident())

        def worker(i):
            out[i] = swco.async_call(blocking, i)

        def main():
            for i in range(4):
                swco.go(worker, i)
            with self.assertRaises(ZeroDivisionError):
                swco.async_call(lambda: 1 / 0)
            with self.assertRaises(swco.TimeoutError):
                swco.async_call(time.sleep, 0.3, timeout=0.02)

        swco.run(main)
        self.assertEqual(sorted(v[0] for v in out.values()), [0, 1, 2, 3])
        self.assertNotIn(main_thread, [v[1] for v in out.values()])
        self.assertEqual(swco.async_call(lambda a, b=0: a + b, 1, b=2), 3)  # outside: inline


class TestSocket(unittest.TestCase):
    def test_echo_server(self):
        import socket
        out = []

        def serve(server):
            with server.accept(timeout=5) as conn:
                out.append(conn.getpeername()[0])
                while True:
                    data = conn.recv()
                    if not data:
                        break
                    conn.sendall(data.upper())

        def main():
            server = swco.Socket(socket.AF_INET, socket.SOCK_STREAM)
            server.set_reuseaddr()
            server.bind("127.0.0.1", 0)
            server.listen()
            host, port = server.getsockname()
            swco.go(serve, server)
            with swco.Socket() as client:
                client.connect(host, port, timeout=5)
                client.sendall(b"hello " * 1000)
                out.append(client.recv_exactly(6000, timeout=5))
                client.shutdown()
                out.append(client.recv(timeout=5))
                with self.assertRaises(swco.Error):
                    client.connect("127.0.0.1", 1, timeout=5)
            server.close()

        swco.run(main)
        self.assertEqual(out, ["127.0.0.1", b"HELLO " * 1000, b""])


class TestSocketArguments(unittest.TestCase):
    def test_closed_socket_raises(self):
        s = swco.Socket()
        s.close()
        s.close()  # again: nothing
        self.assertEqual(s.fileno(), -1)
        for call in (lambda: s.send(b"x"), lambda: s.recv(), lambda: s.recv_exactly(1),
                     lambda: s.connect("127.0.0.1", 9), lambda: s.bind("127.0.0.1"),
                     lambda: s.listen(), lambda: s.accept(), lambda: s.getsockname(),
                     lambda: s.getpeername(), lambda: s.shutdown()):
            with self.assertRaises(swco.ClosedError):
                call()
        with s:  # the context manager closes a closed socket quietly too
            pass

    def test_data_must_be_bytes_like(self):
        with swco.Socket() as s:
            for data in (5, "text", None, [1, 2]):
                with self.assertRaises(TypeError):
                    s.send(data)
                with self.assertRaises(TypeError):
                    s.sendall(data)
            with self.assertRaises(swco.Error):  # bytearray reaches libswco: not connected
                s.send(bytearray(b"x"))


def _stream_pair(server, client, server_ctx=None, conns=1):
    """Run server(conn) on each of conns connections accepted on
    127.0.0.1 (port 0, TLS with server_ctx) and client(port), in one
    swco.run; return what server returned or raised for each, and what
    client returned."""
    import socket
    served, out = [], {}
    done = swco.Channel(conns)

    def serve(ls):
        for _ in range(conns):
            swco.go(serve_conn, ls.accept(timeout=5))

    def serve_conn(conn):
        try:
            served.append(server(conn))
        except BaseException as exc:  # noqa: B902 (checked by the test)
            served.append(exc)
        finally:
            conn.close()
            done.push(None)

    def main():
        with swco.Socket(socket.AF_INET, socket.SOCK_STREAM) as ls:
            ls.bind("127.0.0.1", 0)
            ls.listen()
            if server_ctx is not None:
                ls.enable_ssl(server_ctx)
            swco.go(serve, ls)
            out["client"] = client(ls.getsockname()[1])
            for _ in range(conns):
                done.pop(timeout=5)

    swco.run(main)
    return served, out["client"]


def _connect(port, ctx=None, hostname=None):
    """A client Socket connected to 127.0.0.1:port (TLS with ctx)."""
    sock = swco.Socket()
    if ctx is not None:
        sock.enable_ssl(ctx, hostname)
    sock.connect("127.0.0.1", port, timeout=5)
    return sock


def _have_ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


class TestSocketDatagram(unittest.TestCase):
    def udp_echo(self, family, host):
        import socket
        out = {}

        def serve(srv):
            data, addr = srv.recvfrom(timeout=5)
            out["from"] = addr
            srv.sendto(bytearray(data.upper()), addr[0], addr[1], timeout=5)

        def main():
            with swco.Socket(family, socket.SOCK_DGRAM) as srv, \
                    swco.Socket(family, socket.SOCK_DGRAM) as cli:
                srv.bind(host, 0)
                out["server"] = srv.getsockname()
                swco.go(serve, srv)
                out["sent"] = cli.sendto(b"ping", *out["server"], timeout=5)
                out["reply"] = cli.recvfrom(timeout=5)
                out["client"] = cli.getsockname()

        swco.run(main)
        self.assertEqual(out["sent"], 4)
        self.assertEqual(out["reply"], (b"PING", out["server"]))
        self.assertEqual(out["from"], (host, out["client"][1]))  # bound to any address

    def test_udp_echo_ipv4(self):
        self.udp_echo(2, "127.0.0.1")

    def test_udp_echo_ipv6(self):
        import socket
        if not _have_ipv6_loopback():
            self.skipTest("no IPv6 loopback")
        self.udp_echo(socket.AF_INET6, "::1")

    def test_recvfrom_timeout_and_truncation(self):
        import socket
        out = []

        def main():
            with swco.Socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind("127.0.0.1", 0)
                t0 = time.monotonic()
                with self.assertRaises(swco.TimeoutError):
                    s.recvfrom(timeout=0.05)
                out.append(time.monotonic() - t0)
                s.set_timeout(0.05, swco.TIMEOUT_READ)  # the socket's own timeout
                with self.assertRaises(TimeoutError):
                    s.recvfrom()
                s.sendto(b"abcdef", *s.getsockname())  # still usable
                out.append(s.recvfrom(3, timeout=5)[0])

        swco.run(main)
        self.assertGreaterEqual(out[0], 0.04)
        self.assertEqual(out[1], b"abc")

    def test_cancel_wakes_waiter(self):
        import socket
        out = []

        def waiter(s):
            try:
                s.recvfrom(timeout=5)
            except swco.CancelledError:
                out.append(("cancelled", swco.is_cancelled()))
            # wait again at once, inside cancel(): the socket stays open
            # and the new wait holds
            out.append(s.recvfrom(timeout=5)[0])

        def main():
            with swco.Socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind("127.0.0.1", 0)
                swco.go(waiter, s)
                s.cancel()
                swco.sleep(0.02)
                s.sendto(b"again", *s.getsockname())
                swco.sleep(0.01)

        swco.run(main)
        self.assertEqual(out, [("cancelled", False), b"again"])

    def test_bad_arguments(self):
        import socket
        with swco.Socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for call in (lambda: s.sendto("text", "127.0.0.1", 9),
                         lambda: s.sendto(b"x", 9), lambda: s.recvfrom("big")):
                with self.assertRaises((TypeError, ValueError)):
                    call()
            for call, code in ((lambda: s.recvfrom(0), -errno.EINVAL),
                               (lambda: s.sendto(b"x", "127.0.0.1", -1), -errno.EINVAL),
                               (lambda: s.recvfrom(), _swco_code("SWCO_ENOTCO"))):
                with self.assertRaises(swco.Error) as cm:
                    call()
                self.assertEqual(cm.exception.code, code)
        for call in (lambda: s.sendto(b"x", "127.0.0.1", 9), lambda: s.recvfrom(),
                     lambda: s.cancel()):
            with self.assertRaises(swco.ClosedError):
                call()


class TestSocketStream(unittest.TestCase):
    def test_sendfile_and_peek(self):
        import tempfile
        data = os.urandom(300000)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()

            def server(conn):
                got = conn.recv_exactly(len(data) + 100, timeout=5)
                conn.sendall(b"peekaboo")
                conn.recv(timeout=5)  # until the client closes
                return got

            def client(port):
                out = []
                with _connect(port) as c:
                    out.append(c.sendfile(f.name, timeout=5))
                    out.append(c.sendfile(f.name, offset=10, length=100, timeout=5))
                    with self.assertRaises(swco.Error) as cm:
                        c.sendfile(f.name + ".missing")
                    out.append(cm.exception.code)
                    deadline = time.monotonic() + 5
                    while True:
                        try:
                            out.append(c.peek(4))
                            break
                        except swco.Error as exc:
                            if exc.code != -errno.EAGAIN or time.monotonic() > deadline:
                                raise
                            swco.sleep(0.002)
                    swco.sleep(0.01)
                    out.append(c.peek())
                    out.append(c.recv_exactly(8, timeout=5))
                    with self.assertRaises(swco.Error) as cm:
                        c.peek()  # nothing pending: never waits
                    out.append(cm.exception.code)
                return out

            served, out = _stream_pair(server, client)
        self.assertEqual(served, [data + data[10:110]])
        self.assertEqual(out, [len(data), 100, -errno.ENOENT, b"peek", b"peekaboo", b"peekaboo",
                               -errno.EAGAIN])

    def test_options_and_timeouts(self):
        import socket
        with swco.Socket() as s:
            s.set_keepalive(True, idle=30, interval=5, count=3)
            s.set_reuseport()
            s.set_buffer_size(65536, 32768)
            s.set_buffer_size(0, 0)
            with socket.socket(fileno=os.dup(s.fileno())) as py:
                self.assertEqual(py.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
                self.assertEqual(py.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE), 30)
                self.assertEqual(py.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT), 3)
                self.assertEqual(py.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT), 1)
                self.assertGreaterEqual(py.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), 65536)
            self.assertEqual(s.get_timeout(swco.TIMEOUT_CONNECT), 1.0)
            self.assertEqual(s.get_timeout(swco.TIMEOUT_READ), -1.0)
            s.set_timeout(2.5, swco.TIMEOUT_READ)
            s.set_timeout(0)  # 0 keeps them
            self.assertEqual(s.get_timeout(swco.TIMEOUT_READ), 2.5)
            self.assertEqual(s.get_timeout(swco.TIMEOUT_WRITE), -1.0)
            with self.assertRaises(swco.Error) as cm:
                s.get_timeout(swco.TIMEOUT_RW)  # one kind at a time
            self.assertEqual(cm.exception.code, -errno.EINVAL)
        self.assertEqual(swco.get_default_timeout(swco.TIMEOUT_CONNECT), 1.0)
        try:
            swco.set_default_timeout(3, swco.TIMEOUT_CONNECT | swco.TIMEOUT_WRITE)
            with swco.Socket() as s:
                self.assertEqual(s.get_timeout(swco.TIMEOUT_CONNECT), 3.0)
                self.assertEqual(s.get_timeout(swco.TIMEOUT_WRITE), 3.0)
                self.assertEqual(s.get_timeout(swco.TIMEOUT_READ), -1.0)
            with self.assertRaises(swco.Error):
                swco.set_default_timeout(float("nan"))
            with self.assertRaises(swco.Error):
                swco.get_default_timeout(0)
        finally:
            swco.set_default_timeout(1, swco.TIMEOUT_CONNECT)
            swco.set_default_timeout(-1, swco.TIMEOUT_RW)
        self.assertEqual(swco.get_default_timeout(swco.TIMEOUT_WRITE), -1.0)

    def test_bad_arguments(self):
        with swco.Socket() as s:
            with self.assertRaises(TypeError):
                s.sendfile(42)
            with self.assertRaises(swco.Error) as cm:
                s.peek(-1)
            self.assertEqual(cm.exception.code, -errno.EINVAL)
            with self.assertRaises(swco.Error) as cm:
                s.sendfile(__file__, offset=-1)
            self.assertEqual(cm.exception.code, -errno.EINVAL)
        for call in (lambda: s.peek(), lambda: s.sendfile(__file__)):
            with self.assertRaises(swco.ClosedError):
                call()


class TestSocketFraming(unittest.TestCase):
    def test_eof_framing(self):
        def server(conn):
            conn.set_package_eof(b"\r\n")
            return [conn.recv_packet(timeout=5) for _ in range(4)]

        def client(port):
            with _connect(port) as c:
                for part in (b"hel", b"lo\r\nwor", b"ld\r", b"\n!\r\n"):
                    c.sendall(part)
                    swco.sleep(0.005)
                c.shutdown()
                return c.recv(timeout=5)

        served, rest = _stream_pair(server, client)
        self.assertEqual(served, [[b"hello\r\n", b"world\r\n", b"!\r\n", b""]])
        self.assertEqual(rest, b"")

    def test_length_framing_and_oversize(self):
        import struct
        body = bytes(range(256)) * 2

        def server(conn):
            conn.set_package_length(2, big_endian=True)  # body right after the field
            conn.set_package_max_length(1024)
            got = [conn.recv_packet(timeout=5) for _ in range(3)]
            with self.assertRaises(swco.Error) as cm:
                conn.recv_packet(timeout=5)
            got.append(cm.exception.name)
            with self.assertRaises(swco.ClosedError):  # the stream is given up
                conn.recv(timeout=5)
            return got

        def client(port):
            wire = (struct.pack(">H", 5) + b"hello" + struct.pack(">H", 0)
                    + struct.pack(">H", len(body)) + body + struct.pack(">H", 4000) + b"x" * 64)
            with _connect(port) as c:
                for i in range(0, len(wire), 97):  # headers split across sends too
                    c.sendall(memoryview(wire)[i:i + 97])
                    swco.sleep(0.002)
                return c.recv(timeout=5)

        served, rest = _stream_pair(server, client)
        self.assertEqual(served, [[b"\x00\x05hello", b"\x00\x00",
                                   struct.pack(">H", len(body)) + body, "SWCO_EPKGTOOBIG"]])
        self.assertEqual(rest, b"")

    def test_bad_arguments(self):
        with swco.Socket() as s:
            with self.assertRaises(TypeError):
                s.set_package_eof("\n")
            for call in (lambda: s.set_package_eof(b"123456789"),
                         lambda: s.set_package_length(3),
                         lambda: s.set_package_length(2, length_offset=100000),
                         lambda: s.set_package_max_length(0)):
                with self.assertRaises(swco.Error) as cm:
                    call()
                self.assertEqual(cm.exception.code, -errno.EINVAL)
            with self.assertRaises(OverflowError):
                s.set_package_max_length(-1)
            s.set_package_eof(b"\n")
            s.set_package_eof(None)  # framing off
        with self.assertRaises(swco.ClosedError):
            s.recv_packet()


class TestSocketTLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import shutil
        import tempfile
        if not shutil.which("openssl"):
            raise unittest.SkipTest("no openssl command")
        cls.dir = tempfile.mkdtemp(prefix="swco-py-ssl-")
        # the sanitizer runtimes preloaded for the module are not for openssl
        cls.env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        script = (
            "openssl req -x509 %(ec)s -keyout ca.key -out ca.pem -days 2 -subj /CN=swco-test-ca"
            " && openssl req -x509 %(ec)s -keyout other.key -out other.pem -days 2"
            " -subj /CN=other-ca"
            " && openssl req %(ec)s -keyout srv.key -out srv.csr -subj /CN=localhost"
            " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n'"
            " > srv.ext"
            " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
            " -out srv.pem -days 2 -extfile srv.ext" % {"ec": ec})
        res = subprocess.run(["sh", "-c", script], cwd=cls.dir, env=cls.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if res.returncode != 0:
            shutil.rmtree(cls.dir)
            raise unittest.SkipTest("cannot make certificates: %s" % res.stderr[-200:])

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def server_ctx(self, alpn=None):
        ctx = swco.SSLContext(server=True)
        ctx.load_cert_chain(self.path("srv.pem"), self.path("srv.key"))
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def client_ctx(self, ca="ca.pem", alpn=None):
        ctx = swco.SSLContext()
        ctx.load_verify_locations(self.path(ca))
        ctx.set_verify_peer()
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    @staticmethod
    def echo_upper(conn):
        conn.ssl_handshake(timeout=5)
        info = (conn.ssl_server_name, conn.ssl_alpn, conn.ssl_version, conn.ssl_peer_subject)
        while True:
            data = conn.recv(timeout=5)
            if not data:
                return info
            conn.sendall(data.upper())

    def test_echo_alpn_sni_and_reuse(self):
        sctx = self.server_ctx(["h2", "http/1.1"])
        cctx = self.client_ctx(alpn="http/1.1,h2")
        lines = b"hello over tls\n" * 2000

        def client(port):
            out = []
            for _ in range(2):
                with _connect(port, cctx, "localhost") as c:
                    c.sendall(lines, timeout=5)
                    self.assertEqual(c.recv_exactly(len(lines), timeout=5), lines.upper())
                    out.append((c.ssl_alpn, c.ssl_version, c.ssl_server_name,
                                c.ssl_peer_subject, c.ssl_session_reused))
            return out

        served, out = _stream_pair(client=client, server=self.echo_upper, server_ctx=sctx,
                                   conns=2)
        self.assertEqual(served, [("localhost", "h2", "TLSv1.3", None)] * 2)
        self.assertEqual(out[0][:3], ("h2", "TLSv1.3", "localhost"))
        self.assertIn("CN=localhost", out[0][3])
        self.assertEqual([o[4] for o in out], [False, True])

    def test_context_kept_alive_and_tls12(self):
        sctx = self.server_ctx()

        def client(port):
            ctx = self.client_ctx()
            ctx.set_protocols(swco.SSLContext.TLS1_2, swco.SSLContext.TLS1_2)
            ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
            ctx.set_session_reuse(False)
            ref = weakref.ref(ctx)
            c = swco.Socket()
            c.enable_ssl(ctx, "localhost")
            del ctx
            gc.collect()
            alive = ref() is not None
            c.connect("127.0.0.1", port, timeout=5)
            c.sendall(b"ping")
            out = (alive, c.recv_exactly(4, timeout=5), c.ssl_version)
            c.close()
            del c
            gc.collect()
            return out + (ref() is None,)

        served, out = _stream_pair(self.echo_upper, client, server_ctx=sctx)
        self.assertEqual(out, (True, b"PING", "TLSv1.2", True))
        self.assertEqual(served[0][2], "TLSv1.2")

    def test_verify_failures_raise(self):
        sctx = self.server_ctx()

        def client(port):
            codes = []
            for ctx, name in ((self.client_ctx("other.pem"), "localhost"),  # unknown CA
                              (self.client_ctx(), "wrong.example")):  # wrong name
                with self.assertRaises(swco.Error) as cm:
                    _connect(port, ctx, name)
                codes.append(cm.exception.code)
            return codes

        served, codes = _stream_pair(self.echo_upper, client, server_ctx=sctx, conns=2)
        self.assertEqual(codes, [_swco_code("SWCO_ESSLVERIFY")] * 2)
        for exc in served:  # the server's handshakes fail cleanly
            self.assertIsInstance(exc, swco.Error)

    def test_openssl_s_client_peer(self):
        sctx = self.server_ctx(["http/1.1"])
        out = {}

        def server(conn):
            conn.ssl_handshake(timeout=5)
            out["sni"] = conn.ssl_server_name
            conn.set_package_eof(b"\n")
            while True:
                line = conn.recv_packet(timeout=5)
                if not line:
                    break
                conn.sendall(b"pong:" + line)
                if line == b"quit\n":
                    break

        def client(port):
            proc = subprocess.Popen(
                ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:%d" % port,
                 "-CAfile", self.path("ca.pem"), "-verify_return_error",
                 "-servername", "localhost", "-verify_hostname", "localhost",
                 "-alpn", "http/1.1"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=self.env)
            try:  # the pool thread waits for it while the server coroutine runs
                return swco.async_call(lambda: proc.communicate(b"hello\nquit\n", timeout=10))[0]
            finally:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

        served, output = _stream_pair(server, client, server_ctx=sctx)
        self.assertEqual(served, [None])
        self.assertEqual(output, b"pong:hello\npong:quit\n")
        self.assertEqual(out["sni"], "localhost")

    def test_bad_arguments(self):
        import socket
        ctx = swco.SSLContext(server=True)
        self.assertTrue(ctx.server)
        for call, code in ((lambda: ctx.load_cert_chain("/nonexistent/c.pem"), -errno.ENOENT),
                           (lambda: ctx.load_cert_chain(self.path("srv.pem"),
                                                        self.path("other.key")),
                            _swco_code("SWCO_ESSL")),  # the key does not match
                           (lambda: ctx.load_verify_locations(), -errno.EINVAL),
                           (lambda: ctx.set_alpn_protocols(["h2", ""]), -errno.EINVAL),
                           (lambda: ctx.set_alpn_protocols(["h2,x"]), -errno.EINVAL),
                           (lambda: ctx.set_alpn_protocols([b"h2"]), -errno.EINVAL),
                           (lambda: ctx.set_protocols(ctx.TLS1_3, ctx.TLS1_2), -errno.EINVAL),
                           (lambda: ctx.set_protocols(11), -errno.EINVAL),
                           (lambda: ctx.set_ciphers("NO-SUCH-CIPHER"), _swco_code("SWCO_ESSL"))):
            with self.assertRaises(swco.Error) as cm:
                call()
            self.assertEqual(cm.exception.code, code)
        with self.assertRaises(TypeError):
            ctx.load_cert_chain(None)
        ctx.set_alpn_protocols(None)
        with swco.Socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            with self.assertRaises(TypeError):
                u.enable_ssl("ctx")
            with self.assertRaises(swco.Error) as cm:
                u.enable_ssl(ctx)  # not a stream socket
            self.assertEqual(cm.exception.code, -errno.EINVAL)
        with swco.Socket() as s:
            s.enable_ssl(ctx)
            with self.assertRaises(swco.Error) as cm:
                s.enable_ssl(ctx)
            self.assertEqual(cm.exception.name, "SWCO_ECOSTATE")
        with swco.Socket() as s:  # plain TCP: no TLS details
            for call in (lambda: s.ssl_handshake(), lambda: s.ssl_session_reused,
                         lambda: s.ssl_peer_subject):
                with self.assertRaises(swco.Error) as cm:
                    call()
                self.assertEqual(cm.exception.code, -errno.EINVAL)
            self.assertEqual((s.ssl_alpn, s.ssl_version, s.ssl_server_name), (None,) * 3)


class TestProcessPool(unittest.TestCase):
    def run_pool(self, pool):
        signal.alarm(20)  # a stuck manager fails loudly instead of hanging
        try:
            pool.set_max_wait(5)
            pool.start()
        finally:
            signal.alarm(0)

    def test_table_written_by_pool_workers(self):
        """ProcessPool workers (forked) each write rows into a swco.Table;
        the parent reads them all back once the pool has stopped."""
        workers, messages = 3, 12
        table = swco.Table(64, columns=[("worker", swco.Table.INT), ("square", swco.Table.INT),
                                        ("pid", swco.Table.INT), ("text", swco.Table.STRING, 16)])
        handled = swco.Atomic(0)

        def on_worker_start(pool, worker_id):
            table["start%d" % worker_id] = {"pid": os.getpid(), "worker": pool.worker_id}

        def on_message(pool, worker_id, data):
            n = int(data)
            table["msg%d" % n] = {"worker": worker_id, "square": n * n, "pid": os.getpid(),
                                  "text": "n=%d" % n}
            if handled.add(1) == messages:
                pool.shutdown()

        pool = swco.ProcessPool(workers, on_message=on_message, on_worker_start=on_worker_start)
        self.assertEqual(pool.worker_id, -1)
        for i in range(messages):
            pool.send(i % workers, b"%d" % i)
        self.run_pool(pool)
        self.assertEqual(handled.get(), messages)
        self.assertEqual(pool.manager_pid, 0)
        for i in range(messages):
            row = table["msg%d" % i]
            self.assertEqual(row["square"], i * i)
            self.assertEqual(row["worker"], i % workers)
            self.assertEqual(row["text"], "n=%d" % i)
            self.assertEqual(row["pid"], table["start%d" % row["worker"]]["pid"])
        pids = {table["start%d" % w]["pid"] for w in range(workers)}
        self.assertEqual(len(pids), workers)
        self.assertNotIn(os.getpid(), pids)
        self.assertEqual(len(table), messages + workers)

    def test_message_queue_and_stop_callback(self):
        count = swco.Atomic(0)
        stops = swco.Atomic(0)
        total = swco.Atomic64(0)
        starts = swco.Atomic(0)

        def on_message(pool, worker_id, data):
            total.add(len(data))
            if count.add(1) == 10:
                # a worker still being forked would die of SIGTERM before
                # libswco installs its handler, without a stop callback
                t0 = time.monotonic()
                while starts.get() < 2 and time.monotonic() - t0 < 5:
                    time.sleep(0.001)
                pool.shutdown()

        pool = swco.ProcessPool(2, swco.ProcessPool.IPC_MSGQUEUE, on_message=on_message,
                                on_worker_start=lambda pool, wid: starts.add(1),
                                on_worker_stop=lambda pool, wid: stops.add(1))
        for i in range(10):
            pool.push(b"x" * (i + 1))
        self.run_pool(pool)
        self.assertEqual(count.get(), 10)
        self.assertEqual(total.get(), 55)
        self.assertEqual(stops.get(), 2)

    def test_worker_loop_without_ipc(self):
        ran = swco.Atomic(0)
        pids = swco.Table(8, columns=[("pid", swco.Table.INT)])

        def body(pool, worker_id):
            pids["w%d" % worker_id] = {"pid": pool.worker_pid(worker_id)}
            if ran.add(1) == 2:
                pool.shutdown()
            while not pool.is_stopping:
                time.sleep(0.005)

        pool = swco.ProcessPool(2, swco.ProcessPool.IPC_NONE, on_worker_start=body)
        self.run_pool(pool)
        self.assertEqual(ran.get(), 2)
        self.assertEqual(len({pids["w0"]["pid"], pids["w1"]["pid"], os.getpid()}), 3)

    def test_reply_and_errors(self):
        pool = swco.ProcessPool(1, on_message=lambda pool, wid, data: pool.reply(data[::-1]))
        pool.send(0, b"abc")
        got = []

        def on_start(p, wid):
            pass

        pid = os.fork()
        if pid == 0:  # a client process: reads the reply, then stops the pool
            try:
                code = 0 if pool.recv(0, timeout=10) == b"cba" else 2
            except BaseException:  # noqa: B902
                code = 3
            pool.shutdown()
            os._exit(code)
        self.run_pool(pool)
        _, status = os.waitpid(pid, 0)
        got.append(os.waitstatus_to_exitcode(status))
        self.assertEqual(got, [0])
        with self.assertRaises(swco.Error) as cm:
            swco.ProcessPool(0)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        with self.assertRaises(swco.Error):
            swco.ProcessPool(1, on_message=42)


class TestThreads(unittest.TestCase):
    def test_other_threads_run_while_loop_waits(self):
        # The loop waits for a message that only another Python thread can
        # send, and that thread starts only once the loop is about to wait:
        # if the wait held the GIL, the message would never come.
        import socket
        ready = threading.Event()
        port = []
        seen = []

        def other():
            if ready.wait(30 * SLOW):
                with socket.create_connection(("127.0.0.1", port[0]), timeout=30 * SLOW) as c:
                    c.sendall(b"".join(b"%d," % i for i in range(100)))

        def main():
            srv = swco.Socket()
            srv.bind("127.0.0.1", 0)
            srv.listen()
            port.append(srv.getsockname()[1])
            ready.set()
            conn = srv.accept(timeout=30 * SLOW)
            seen.append(conn.recv(timeout=30 * SLOW))
            conn.close()
            srv.close()

        thread = threading.Thread(target=other)
        thread.start()
        try:
            swco.run(main)
        finally:
            ready.set()
            thread.join()
        self.assertEqual(seen[0][:4], b"0,1,", "the GIL must be free while the loop waits")

    def test_one_loop_per_thread(self):
        # Ping-pong between the two threads' loops: each must wait for the
        # other while the other runs, so if one loop's wait held the GIL (or
        # the loops were one), neither could go on and the waits would time
        # out.
        done = []
        port = []
        listening = threading.Event()
        limit = 30 * SLOW

        def worker(i):
            def main():
                for _ in range(3):
                    swco.go(swco.sleep, 0.1)
                if i == 0:
                    srv = swco.Socket()
                    srv.bind("127.0.0.1", 0)
                    srv.listen()
                    port.append(srv.getsockname()[1])
                    listening.set()
                    conn = srv.accept(timeout=limit)
                    for _ in range(3):
                        conn.sendall(conn.recv_exactly(4, timeout=limit).replace(b"i", b"o"))
                    srv.close()
                else:
                    self.assertTrue(swco.async_call(listening.wait, limit))
                    conn = swco.Socket()
                    conn.connect("127.0.0.1", port[0], timeout=limit)
                    for _ in range(3):
                        conn.sendall(b"ping")
                        self.assertEqual(conn.recv_exactly(4, timeout=limit), b"pong")
                conn.close()
                swco.sleep(0.1)
                done.append(i)
            swco.run(main)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(done), [0, 1], "the two loops must wait in parallel")


class TestProcessExit(unittest.TestCase):
    def test_unfinished_coroutines_unwound_at_exit(self):
        code = (
            "import swco\n"
            "def f():\n"
            "    try:\n"
            "        swco.sleep(30)\n"
            "    finally:\n"
            "        print('unwound', flush=True)\n"
            "swco.go(f)\n"
            "print('end of script', flush=True)\n"
        )
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, timeout=20, env=os.environ.copy())
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.split(), ["end", "of", "script", "unwound"])
        self.assertLess(time.monotonic() - t0, 10)

    def _script(self, code, sigint_after_ready=False):
        # SIGINT back to its default in the child: a runner started in the
        # background of a non-interactive shell passes it on ignored.
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            if sigint_after_ready:
                self.assertEqual(proc.stdout.readline().strip(), "ready")
                time.sleep(0.05)
                proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        return proc.returncode, out, err

    def test_sigint_stops_a_waiting_loop(self):
        code = (
            "import swco\n"
            "def sleeper():\n"
            "    try:\n"
            "        swco.sleep(30)\n"
            "    finally:\n"
            "        print('unwound', flush=True)\n"
            "def main():\n"
            "    swco.go(sleeper)\n"
            "    swco.tick(10, print, 'tick')\n"
            "    print('ready', flush=True)\n"
            "    swco.sleep(30)\n"
            "try:\n"
            "    swco.run(main)\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True)\n"
        )
        t0 = time.monotonic()
        rc, out, err = self._script(code, sigint_after_ready=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ["unwound", "interrupted"])
        self.assertLess(time.monotonic() - t0, 10)

    def test_sys_exit_in_a_coroutine(self):
        code = (
            "import swco\n"
            "def other():\n"
            "    try:\n"
            "        swco.sleep(30)\n"
            "    finally:\n"
            "        print('unwound', flush=True)\n"
            "def quitter():\n"
            "    swco.sleep(0.01)\n"
            "    raise SystemExit(3)\n"
            "def main():\n"
            "    swco.go(other)\n"
            "    swco.go(quitter)\n"
            "swco.run(main)\n"
            "print('not reached')\n"
        )
        rc, out, err = self._script(code)
        self.assertEqual(rc, 3, err)
        self.assertEqual(out.split(), ["unwound"])

    def test_refuses_other_minor_version(self):
        import glob
        import shutil
        import tempfile
        import _swco
        # real interpreters before PATH entries (pyenv shims are slow scripts)
        others = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[023]*/bin/python3")))
        others += [shutil.which("python3.%d" % m) for m in (10, 12, 13)]
        for o in others:
            if o and subprocess.run([o, "-c", "pass"], capture_output=True,
                                    timeout=60 * SLOW).returncode == 0:
                others = [o]
                break
        else:
            others = []
        if not others:
            self.skipTest("no other CPython minor version installed")
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(_swco.__file__, os.path.join(tmp, "_swco.so"))
            env = os.environ.copy()
            env["PYTHONPATH"] = os.pathsep.join([tmp, os.path.dirname(swco.__file__)])
            res = subprocess.run([others[0], "-c", "import swco"], capture_output=True,
                                 text=True, timeout=60 * SLOW, env=env)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("swco was built for CPython 3.11 and cannot load into Python 3.", res.stderr)

    def test_module_docstrings(self):
        for name in swco.__all__:
            obj = getattr(swco, name)
            if callable(obj) and not isinstance(obj, type(swco.Error)):
                self.assertTrue(obj.__doc__, name)
            if isinstance(obj, type):
                self.assertTrue(obj.__doc__, name)
                for attr, val in vars(obj).items():
                    if not attr.startswith("_") and callable(val):
                        self.assertTrue(val.__doc__, name + "." + attr)


class TestSocketTLSDefaults(unittest.TestCase):
    """Clients verify by default, with Python-like opt-outs (issue 10)."""

    setUpClass = classmethod(TestSocketTLS.setUpClass.__func__)
    tearDownClass = classmethod(TestSocketTLS.tearDownClass.__func__)
    path = TestSocketTLS.path
    server_ctx = TestSocketTLS.server_ctx
    echo_upper = staticmethod(TestSocketTLS.echo_upper)

    def run_clients(self, attempts):
        """Connect once per (ctx, hostname); the result or error code of each."""
        def client(port):
            out = []
            for ctx, name in attempts:
                try:
                    with _connect(port, ctx, name) as c:
                        c.sendall(b"ping")
                        out.append(c.recv_exactly(4, timeout=5))
                except swco.Error as exc:
                    out.append(exc.code)
            return out

        _, out = _stream_pair(self.echo_upper, client, server_ctx=self.server_ctx(),
                              conns=len(attempts))
        return out

    def test_default_context_verifies(self):
        ctx = swco.SSLContext()
        self.assertEqual((ctx.verify_mode, ctx.check_hostname), (swco.CERT_REQUIRED, True))
        trusted = swco.SSLContext()
        trusted.load_verify_locations(self.path("ca.pem"))
        verify = _swco_code("SWCO_ESSLVERIFY")
        self.assertEqual(self.run_clients([(ctx, "localhost"),  # CA not in the system store
                                           (trusted, "localhost"),
                                           (trusted, "wrong.example")]),
                         [verify, b"PING", verify])

    def test_opt_outs(self):
        import ssl
        chain_only = swco.SSLContext()
        chain_only.load_verify_locations(self.path("ca.pem"))
        chain_only.check_hostname = False
        self.assertEqual(chain_only.verify_mode, swco.CERT_REQUIRED)
        lax = swco.SSLContext()
        with self.assertRaises(ValueError):  # as in Python's ssl
            lax.verify_mode = swco.CERT_NONE
        lax.check_hostname = False
        lax.verify_mode = ssl.CERT_NONE  # the ssl module's constants work too
        self.assertEqual((lax.verify_mode, lax.check_hostname), (swco.CERT_NONE, False))
        verify = _swco_code("SWCO_ESSLVERIFY")
        self.assertEqual(self.run_clients([(chain_only, "wrong.example"),
                                           (lax, "wrong.example")]),
                         [b"PING", b"PING"])
        # check_hostname back on turns verification back on
        lax.check_hostname = True
        self.assertEqual((lax.verify_mode, lax.check_hostname), (swco.CERT_REQUIRED, True))
        self.assertEqual(self.run_clients([(lax, "localhost")]), [verify])
        with self.assertRaises(ValueError):
            lax.verify_mode = 1  # CERT_OPTIONAL is not offered

    def test_server_context_defaults(self):
        ctx = swco.SSLContext(server=True)
        self.assertEqual((ctx.verify_mode, ctx.check_hostname), (swco.CERT_NONE, False))
        ctx.check_hostname = False
        with self.assertRaises(ValueError):
            ctx.check_hostname = True
        ctx.verify_mode = swco.CERT_REQUIRED
        self.assertEqual(ctx.verify_mode, swco.CERT_REQUIRED)

    def test_no_resumption_across_names(self):
        ctx = swco.SSLContext()
        ctx.load_verify_locations(self.path("ca.pem"))
        sctx = self.server_ctx()

        def client(port):
            out = []
            for name in ("localhost", "localhost", "wrong.example"):
                try:
                    with _connect(port, ctx, name) as c:
                        c.sendall(b"ping")
                        c.recv_exactly(4, timeout=5)  # the TLS 1.3 ticket is read too
                        out.append(c.ssl_session_reused)
                except swco.Error as exc:
                    out.append(exc.code)
            return out

        _, out = _stream_pair(self.echo_upper, client, server_ctx=sctx, conns=3)
        self.assertEqual(out, [False, True, _swco_code("SWCO_ESSLVERIFY")])


class TestRawOwnership(unittest.TestCase):
    """The low-level module (SWIG proxy classes) owns what a constructor
    returned: dropping the object frees it, an explicit _free disowns it."""

    def _run(self, code):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120 * SLOW)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertNotIn("no destructor found", res.stdout + res.stderr)
        return res.stdout

    def test_dropping_frees(self):
        # 10000 sockets would run out of descriptors (ulimit 1024 or so) if
        # dropping one did not close it; tables would leave 10000 shared
        # memory mappings behind; mutexes would print SWIG's leak warning.
        out = self._run(
            "import os, socket, resource\n"
            "import swco_raw as r\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))\n"
            "def maps():\n"
            "    with open('/proc/self/maps') as f:\n"
            "        return len(f.readlines())\n"
            "fds, m0 = len(os.listdir('/proc/self/fd')), maps()\n"
            "for i in range(10000):\n"
            "    m = r.swco_mutex_new()\n"
            "    assert m.thisown\n"
            "    s = r.swco_socket_new(socket.AF_INET, socket.SOCK_STREAM, 0)\n"
            "    t = r.swco_table_new(16)\n"
            "    r.swco_table_column(t, 'n', r.SWCO_TABLE_INT, 0)\n"
            "    r.swco_table_create(t)\n"
            "    del m, s, t\n"
            "print(len(os.listdir('/proc/self/fd')) - fds, maps() - m0)\n")
        fds, maps = map(int, out.split())
        self.assertEqual(fds, 0)
        self.assertLess(maps, 50)

    def test_explicit_free_disowns(self):
        out = self._run(
            "import swco_raw as r\n"
            "for new, free in ((r.swco_mutex_new, r.swco_mutex_free),\n"
            "                  (r.swco_waitgroup_new, r.swco_waitgroup_free),\n"
            "                  (lambda: r.swco_channel_new(1), r.swco_channel_free),\n"
            "                  (r.swco_select_new, r.swco_select_free)):\n"
            "    o = new()\n"
            "    free(o)\n"
            "    assert not o.thisown\n"
            "    del o\n"
            "print('ok')\n")
        self.assertEqual(out.split(), ["ok"])


class TestRawTypemaps(unittest.TestCase):
    """The shared parameter patterns of bindings/swco.i, as the low-level
    module swco_raw gives them to Python."""

    def setUp(self):
        import swco_raw
        self.raw = swco_raw
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_bytes_in_and_library_buffer_out(self):
        raw, path = self.raw, os.path.join(self.tmp, "f")
        self.assertEqual(raw.swco_file_write_all(path, b"ab\0cd", 0), 5)
        self.assertEqual(raw.swco_file_read_all(path), b"ab\0cd")
        raw.swco_file_write_all(path, bytearray(b"xy"), raw.SWCO_FILE_APPEND)
        raw.swco_file_write_all(path, "\u00e9", raw.SWCO_FILE_APPEND)  # str: UTF-8
        self.assertEqual(raw.swco_file_read_all(path), b"ab\0cdxy\xc3\xa9")
        with self.assertRaises(swco.Error) as cm:
            raw.swco_file_read_all(os.path.join(self.tmp, "none"))
        self.assertEqual(cm.exception.code, -errno.ENOENT)

    def test_caller_buffer_and_sized_struct(self):
        raw, path = self.raw, os.path.join(self.tmp, "f")
        raw.swco_file_write_all(path, b"0123456789", 0)
        fd = raw.swco_file_open(path, os.O_RDONLY, 0)
        try:
            self.assertEqual(raw.swco_file_read(fd, 4, 3), b"3456")
            self.assertEqual(raw.swco_file_read(fd, 100, 8), b"89")  # cut to what was read
            with self.assertRaises(swco.Error) as cm:
                raw.swco_file_read(fd, 0, 0)
            self.assertEqual(cm.exception.code, -errno.EINVAL)
        finally:
            raw.swco_file_close(fd)
        st = raw.swco_file_stat_t()
        self.assertGreater(st.size, 0)  # the constructor set it
        raw.swco_file_stat(path, 0, st)
        self.assertEqual((st.file_size, st.is_file, st.is_dir), (10, 1, 0))

    def test_scalar_and_string_outputs(self):
        raw = self.raw
        t = raw.swco_table_new(8)
        raw.swco_table_column(t, "n", raw.SWCO_TABLE_INT, 0)
        raw.swco_table_column(t, "s", raw.SWCO_TABLE_STRING, 8)
        raw.swco_table_create(t)
        self.assertEqual(raw.swco_table_incr(t, "k", "n", 5), 5)  # int64_t *out
        self.assertEqual(raw.swco_table_get_int(t, "k", "n"), 5)
        raw.swco_table_set_string(t, "k", "s", b"hi")
        self.assertEqual(raw.swco_table_get_string(t, "k", "s", 8), b"hi")
        it = raw.swco_table_iter_new(t)
        self.assertEqual(raw.swco_table_iter_next(it), "k")  # char *key, size_t cap
        self.assertEqual(raw.swco_table_iter_next(it), "")
        self.assertEqual(raw.swco_dns_gethostbyname("127.0.0.1", _socket.AF_INET, 5.0),
                         "127.0.0.1")
        ai = raw.swco_dns_getaddrinfo("127.0.0.1", "80", _socket.AF_INET, _socket.SOCK_STREAM, 5.0)
        self.assertTrue(ai.thisown)
        self.assertEqual((raw.swco_addrinfo_address(ai, 0), raw.swco_addrinfo_port(ai, 0)),
                         ("127.0.0.1", 80))
        self.assertEqual(raw.swco_exec_run("printf 'a\\0b'; exit 3", 30.0 * SLOW),
                         (b"a\0b", 3))  # (char **out, size_t *out_len), int *status

    def test_lists_and_struct_in_a_coroutine(self):
        raw, out = self.raw, []

        def main():
            out.append(swco.getcid() in raw.swco_coroutine_list(100))
            st = raw.swco_coroutine_stats_t()
            raw.swco_coroutine_stats(st)
            out.append(st.live >= 1)
            s = raw.swco_socket_new(_socket.AF_INET, _socket.SOCK_STREAM, 0)
            raw.swco_socket_bind(s, "127.0.0.1", 0)
            host, port = raw.swco_socket_getsockname(s)  # char *addr + int *port
            out.append(host == "127.0.0.1" and port > 0)
        swco.run(main)
        self.assertEqual(out, [True, True, True])

    def test_callbacks_hold_and_release_the_callable(self):
        raw, calls = self.raw, []

        def fn(*args):
            calls.append(args)
        base = sys.getrefcount(fn)
        # fails before taking arg: the reference is given back at once
        with self.assertRaises(swco.Error) as cm:
            raw.swco_defer(fn)
        self.assertEqual(cm.exception.name, "SWCO_ENOTCO")
        self.assertEqual(sys.getrefcount(fn), base)
        with self.assertRaises(swco.Error) as cm:
            raw.swco_defer(42)
        self.assertEqual(cm.exception.code, -errno.EINVAL)

        def main():
            raw.swco_defer(fn)  # held until the coroutine ends
            calls.append(sys.getrefcount(fn) > base)
            raw.swco_timer_after(0.001, fn)  # fn(timer_id), released after
            swco.sleep(0.05)
            raw.swco_event_defer(fn)  # fn() at the end of this loop turn
            swco.sleep(0.05)
        swco.run(main)
        self.assertEqual(calls[0], True)
        self.assertEqual(len(calls[1]), 1)  # the timer id
        self.assertEqual(calls[2:], [(), ()])  # event_defer, then the coroutine's defer
        self.assertEqual(sys.getrefcount(fn), base)
        # aio: 0 gives arg back (fn ran in the calling thread here)
        raw.swco_aio_run(fn, -1.0)
        self.assertEqual(calls[-1], ())
        self.assertEqual(sys.getrefcount(fn), base)

    def test_argv_and_objects_in_a_forked_callback(self):
        raw = self.raw

        def child(proc):
            raw.swco_process_exec(proc, "sh", ["sh", "-c", "exit 7"])
            os._exit(99)  # exec failed
        p = raw.swco_process_new(child, raw.SWCO_PROCESS_IPC_NONE, 0)
        self.assertGreater(raw.swco_process_start(p), 0)
        raw.swco_process_wait(p, 30.0 * SLOW)
        self.assertEqual(raw.swco_process_exit_code(p), 7)

    def test_hook_switches_without_the_hook_library(self):
        with self.assertRaises(swco.Error) as cm:
            self.raw.swco_hook_get_flags()
        self.assertEqual(cm.exception.code, -errno.ENOSYS)

    def test_double_results(self):
        raw = self.raw
        with self.assertRaises(swco.Error) as cm:  # a negative double is an error
            raw.swco_socket_get_default_timeout(12345)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        self.assertGreaterEqual(raw.swco_event_now(), 0.0)
    def test_hook_switches_with_the_hook_library(self):
        import _swco
        # the build tree: bindings/python/.libs/_swco*.so, .libs/libswco_hook.so
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(_swco.__file__))))
        hook = os.path.join(top, ".libs", "libswco_hook.so")
        if not os.path.exists(hook):
            self.skipTest("libswco_hook.so not built beside the module")
        # dlopen()ed with RTLD_GLOBAL, as a preload would make it visible
        # (a preload cannot be used under ASan: it hangs at startup)
        res = subprocess.run(
            [sys.executable, "-c",
             "import ctypes, sys\n"
             "ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)\n"
             "import swco_raw as r\n"
             "r.swco_hook_enable(r.SWCO_HOOK_SLEEP)\n"
             "print(r.swco_hook_get_flags() == r.SWCO_HOOK_SLEEP)\n"
             "r.swco_hook_disable()\n"
             "print(r.swco_hook_get_flags())\n", hook],
            capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.split(), ["True", "0"])


class TestSelect(unittest.TestCase):
    def test_ready_cases(self):
        a, b, c = swco.Channel(1), swco.Channel(1), swco.Channel(1)
        b.push("bee")
        c.push("full")
        # Outside a coroutine: a ready case needs no wait.
        self.assertEqual(swco.select([a, b], push=[(c, "sea")]), (b, "bee"))
        self.assertEqual(len(c), 1, "the push case must not have run")
        c.pop()
        ch, value = swco.select([a, b], push=[(c, "sea")])
        self.assertIs(ch, c)
        self.assertIsNone(value)
        self.assertEqual(c.pop(), "sea")
        # Any iterables; a channel in several cases.
        self.assertEqual(swco.select(pop=(x for x in [a, a]), push=iter([(c, 1)])), (c, None))

    def test_default_never_waits(self):
        a, b = swco.Channel(0), swco.Channel(1)
        marker = object()
        out = []

        def main():
            out.append(swco.select([a, b], default=marker))
            out.append(swco.select([a], push=[(a, 1)], default=None))
            self.assertEqual((a.consumers, a.producers, b.consumers), (0, 0, 0))
            b.push(7)
            out.append(swco.select([a, b], default=marker))

        swco.run(main)
        self.assertEqual(out, [marker, None, (b, 7)])

    def test_timeout(self):
        out = {}

        def main():
            a, b = swco.Channel(1), swco.Channel(0)
            t0 = time.monotonic()
            try:
                swco.select([a], push=[(b, "never")], timeout=0.05)
            except swco.TimeoutError as exc:
                out["code"] = exc.code
            out["waited"] = time.monotonic() - t0
            out["left"] = (a.consumers, b.producers)

        swco.run(main)
        self.assertEqual(out["code"], -errno.ETIMEDOUT)
        self.assertGreaterEqual(out["waited"], 0.04)
        self.assertEqual(out["left"], (0, 0))

    def test_woken_by_push_and_pop(self):
        got = []
        obj = object()

        def main():
            a, b, u = swco.Channel(1), swco.Channel(1), swco.Channel(0)
            swco.go(lambda: got.append(swco.select([a, b])))
            self.assertEqual((a.consumers, b.consumers), (1, 1))
            b.push("hello")  # buffered: the select runs at once
            self.assertEqual(got, [(b, "hello")])
            self.assertEqual((a.consumers, b.consumers), (0, 0))
            # Unbuffered: the push case completes when a popper takes it.
            swco.go(lambda: got.append(swco.select([a], push=[(u, obj)])))
            self.assertEqual((u.producers, a.consumers), (1, 1))
            got.append(u.pop())
            swco.sleep(0)  # the select runs once this coroutine waits
            self.assertEqual((u.producers, a.consumers), (0, 0))
            got.append(u)

        swco.run(main)
        self.assertIs(got[1], obj)
        self.assertEqual(got[2], (got[3], None))

    def test_closed_channel(self):
        out = []

        def main():
            a, b = swco.Channel(0), swco.Channel(2)
            swco.go(select_into, a, b)
            b.close()
            out.append(b)
            try:
                swco.select(push=[(a, 1), (b, 2)])
            except swco.ClosedError as exc:
                out.append(exc.channel)

        def select_into(a, b):
            try:
                swco.select([a, b])
            except swco.ClosedError as exc:
                out.append(exc.channel)
                out.append(exc.code)

        swco.run(main)
        b = out[2]
        self.assertIs(out[0], b)
        self.assertEqual(out[1], _swco_code("SWCO_ECLOSED"))
        self.assertIs(out[3], b)

    def test_fair_among_ready_cases(self):
        # Each of two always-ready cases wins at least 20% of 1000 times:
        # for a fair pick, missing that has a probability below 1e-80.
        a, b = swco.Channel(1), swco.Channel(1)
        a.push("a")
        b.push("b")
        wins = {a: 0, b: 0}
        for _ in range(1000):
            ch, value = swco.select([a, b], default=None)
            wins[ch] += 1
            ch.push(value)
        self.assertGreaterEqual(wins[a], 200)
        self.assertGreaterEqual(wins[b], 200)

    def test_references(self):
        class Item:
            pass

        kept, dropped = Item(), Item()
        kept_ref, dropped_ref = weakref.ref(kept), weakref.ref(dropped)
        a, b = swco.Channel(1), swco.Channel(1)
        b.push("full")
        self.assertEqual(swco.select(push=[(a, kept), (b, dropped)]), (a, None))
        del kept, dropped
        gc.collect()
        self.assertIsNotNone(kept_ref(), "the channel holds the pushed value")
        self.assertIsNone(dropped_ref(), "the case that did not run keeps nothing")
        self.assertIs(a.pop(), kept_ref())

    def test_cancel(self):
        out = []

        def main():
            a = swco.Channel(0)

            def waiter():
                try:
                    swco.select([a], push=[(a, 1)])
                except swco.CancelledError:
                    out.append("cancelled")
                    raise

            cid = swco.go(waiter)
            self.assertEqual((a.consumers, a.producers), (1, 1))
            swco.cancel(cid)
            out.append((a.consumers, a.producers))

        swco.run(main)
        self.assertEqual(out, ["cancelled", (0, 0)])

    def test_bad_arguments(self):
        a = swco.Channel(1)
        with self.assertRaises(ValueError):
            swco.select()
        with self.assertRaises(TypeError):
            swco.select([a, "not a channel"])
        with self.assertRaises(TypeError):
            swco.select(push=[a])
        with self.assertRaises(TypeError):
            swco.select(push=[(a, 1, 2)])
        with self.assertRaises(TypeError):
            swco.select(5)
        with self.assertRaises(swco.Error) as cm:
            swco.select([a])  # nothing ready, outside a coroutine
        self.assertEqual(cm.exception.code, _swco_code("SWCO_ENOTCO"))
        self.assertEqual(a.consumers, 0)

    def test_other_threads_channel(self):
        a = swco.Channel(1)
        a.push("stays")
        out = []

        def other():
            try:
                swco.select([a], default=None)
            except swco.Error as exc:
                out.append(exc.code)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        self.assertEqual(out, [-errno.EPERM])
        self.assertEqual(a.pop(), "stays")


class TestHttpClient(unittest.TestCase):
    """swco.HttpClient over swco_http_client, against _HttpServer."""

    def serve(self, client):
        def main():
            server = _HttpServer()
            try:
                client(server)
            finally:
                server.close()
        swco.run(main)

    def test_requests_headers_cookies_forms(self):
        def client(server):
            with swco.HttpClient(server.url, timeout=5) as c:
                self.assertEqual(c.get("/hello"), 200)
                self.assertEqual((c.status, c.body, c.url), (200, b"hello world",
                                                             server.url + "/hello"))
                self.assertEqual(c.header("CONTENT-LENGTH"), "11")
                self.assertEqual(c.post("/echo", b"\x00\xffdata"), 200)
                self.assertEqual(c.body, b"POST \x00\xffdata")
                self.assertEqual(c.put("echo", "é"), 200)
                self.assertEqual(c.body, "PUT é".encode())
                self.assertEqual(c.delete("/echo"), 200)
                self.assertEqual(c.body, b"DELETE ")
                self.assertEqual(c.request("patch", "/echo"), 200)
                self.assertEqual(c.body, b"PATCH ")
                self.assertEqual(c.get("/missing"), 404)
                # headers sent with every request; response headers with repeats
                c.set_header("X-Test", "yes")
                c.add_header("X-Rep", "1")
                c.add_header("X-Rep", "2")
                c.set_cookie("flavour", "oat")
                self.assertEqual(c.get("/headers"), 200)
                sent = c.body.decode()
                self.assertIn("x-test: yes\n", sent)
                self.assertIn("x-rep: 1\nx-rep: 2\n", sent)
                self.assertIn("cookie: flavour=oat\n", sent)
                self.assertEqual(c.cookie("flavour"), "oat")
                self.assertIsNone(c.cookie("absent"))
                self.assertEqual((c.header("x-reply"), c.header("X-Reply", index=1)),
                                 ("one", "two"))
                self.assertIsNone(c.header("x-reply", index=2))
                self.assertEqual([v for k, v in c.headers if k == "X-Reply"], ["one", "two"])
                c.clear_headers()
                c.clear_cookies()
                c.get("/headers")
                self.assertNotIn("x-test", c.body.decode())
                self.assertNotIn("cookie", c.body.decode())
                # a form, then a multipart upload
                c.add_field("a", "1 2")
                c.add_field("b", "&")
                self.assertEqual(c.post("/echo"), 200)
                self.assertEqual(c.body, b"POST a=1%202&b=%26")
                c.add_field("title", "t")
                c.add_data("blob", b"\x01\x02", filename="b.bin")
                self.assertEqual(c.post("/echo"), 200)
                self.assertIn(b'name="blob"; filename="b.bin"', c.body)
                self.assertIn(b"\x01\x02", c.body)
                # redirects as an option; download to a file
                self.assertEqual(c.get("/redirect"), 302)
                c.set("follow_redirects", 5)
                self.assertEqual(c.get("/redirect"), 200)
                self.assertEqual(c.url, server.url + "/hello")
                path = os.path.join(tmp, "dl")
                self.assertEqual(c.download("/hello", path), 200)
                self.assertEqual(c.body, b"")
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), b"hello world")

        tmp = tempfile.mkdtemp()
        try:
            self.serve(client)
        finally:
            shutil.rmtree(tmp)

    def test_errors(self):
        holder = _socket.socket()  # bound, not listening: refused
        holder.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d" % holder.getsockname()[1]

        def client(server):
            c = swco.HttpClient(server.url)
            c.set_timeout(5, 0.3)
            with self.assertRaises(swco.TimeoutError):
                c.get("/stall")
            self.assertEqual(c.curl_code, 28)
            self.assertNotEqual(c.error_message, "")
            c.set("timeout", 0)
            self.assertEqual(c.get("/hello"), 200)
            with self.assertRaises(swco.Error) as cm:
                c.set("no_such_option", 1)
            self.assertEqual(cm.exception.name, "SWCO_EOPTION")
            with self.assertRaises(swco.Error):
                c.set_header("Bad Name", "x")
            c.close()
            with self.assertRaises(ValueError):
                swco.HttpClient("ftp://127.0.0.1/")
            r = swco.HttpClient(closed)
            with self.assertRaises(swco.Error) as cm:
                r.get("/")
            self.assertEqual(cm.exception.code, -errno.ECONNREFUSED)
            self.assertEqual(r.curl_code, 7)

        try:
            self.serve(client)
        finally:
            holder.close()


if __name__ == "__main__":
    unittest.main()

"""Tests of swco.Server (stdlib unittest; run by make check through
run-tests.sh).

Each server runs in its own Python process (start() blocks and forks
workers), started from a small script; the tests talk to it with Python
socket clients on loopback, read the lines it prints to learn its port and
when its workers are up, and stop it with SIGTERM.  Nothing waits by the
clock: a client waits for the bytes it expects, with a generous safety
limit scaled by SWCO_TEST_SLOW.
"""

import errno
import os
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import unittest

import swco

SLOW = max(1.0, float(os.environ.get("SWCO_TEST_SLOW", "1")))
LIMIT = 30.0 * SLOW  # safety net for every wait


class ServerProcess:
    """A Python server script in a child process (its own process group,
    so that its workers are stopped with it), its output read line by line."""

    # say(): one write(2) per line, so the lines of several workers writing
    # to the same pipe never interleave
    PRELUDE = ("import os, sys, swco\nLIMIT = %r\n"
               "def say(*args):\n"
               "    os.write(1, (' '.join(str(a) for a in args) + '\\n').encode())\n" % LIMIT)

    def __init__(self, test, body):
        self.test = test
        script = self.PRELUDE + textwrap.dedent(body)
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.lines = queue.Queue()
        self.err = []
        self.readers = [threading.Thread(target=self._read_out, daemon=True),
                        threading.Thread(target=self._read_err, daemon=True)]
        for t in self.readers:
            t.start()
        test.addCleanup(self.kill)
        self.first_line = self.expect("listening on ")
        self.port = int(self.first_line.split()[2])

    def _read_out(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def expect(self, prefix):
        """The next stdout line starting with prefix (others are skipped)."""
        while True:
            try:
                line = self.lines.get(timeout=LIMIT)
            except queue.Empty:
                ps = subprocess.run(["ps", "-o", "pid,ppid,stat,wchan:30", "-g",
                                     str(self.proc.pid)], stdout=subprocess.PIPE,
                                    text=True).stdout
                self.test.fail("server printed no %r line; processes:\n%s\nstderr:\n%s"
                               % (prefix, ps, "".join(self.err)))
            if line is None:
                self.proc.wait(timeout=LIMIT)
                for t in self.readers:
                    t.join(LIMIT)
                self.test.fail("server exited (%s) before printing %r; stderr:\n%s"
                               % (self.proc.returncode, prefix, "".join(self.err)))
            if line.startswith(prefix):
                return line

    def stop(self):
        """SIGTERM, then its exit status once every process ended."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            self.kill()
            self.test.fail("server did not stop on SIGTERM; stderr:\n%s" % "".join(self.err))
        for t in self.readers:
            t.join(LIMIT)
        return rc

    def stderr(self):
        return "".join(self.err)

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def connect(test, port):
    s = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    test.addCleanup(s.close)
    return s


def recv_exactly(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %r" % buf)
        buf += chunk
    return buf


def ask(s, data, expect_len=None):
    """Send data, read the answer (expect_len bytes; default len(data))."""
    s.sendall(data)
    return recv_exactly(s, len(data) if expect_len is None else expect_len)


ECHO = """
srv = swco.Server("127.0.0.1", 0, mode=MODE)
srv.set(OPTIONS)
srv.on("worker_start", lambda srv, wid: say("worker", wid, "started"))

def receive(srv, fd, reactor_id, data):
    if data == b"who":
        srv.send(fd, b"%03d" % srv.worker_id)
    elif data == b"port":
        srv.send(fd, b"%05d" % srv.get_client_info(fd)["port"])
    elif data == b"conns":
        srv.send(fd, b"%03d" % len(list(srv.connections())))
    elif data == b"cid?":
        srv.send(fd, b"+" if swco.getcid() > 0 else b"-")
    else:
        srv.send(fd, data)

srv.on("receive", receive)
say("listening on", srv.port)
srv.start()
say("stopped")
"""


def echo_server(test, mode="swco.SERVER_BASE", **options):
    return ServerProcess(test, ECHO.replace("MODE", mode).replace("OPTIONS", repr(options)))


class TestServerEcho(unittest.TestCase):
    def check_echo(self, server, clients=4, workers=1):
        started = sorted(int(server.expect("worker ").split()[1]) for _ in range(workers))
        self.assertEqual(started, list(range(workers)))
        socks = [connect(self, server.port) for _ in range(clients)]
        # interleaved: every connection is served while the others are open
        for rnd in range(3):
            for i, s in enumerate(socks):
                msg = b"hello %d/%d" % (i, rnd)
                self.assertEqual(ask(s, msg), msg)
        big = os.urandom(200000)
        socks[0].sendall(big)
        self.assertEqual(recv_exactly(socks[0], len(big)), big)
        for s in socks:
            wid = int(ask(s, b"who", 3))
            self.assertIn(wid, range(workers))
            self.assertEqual(int(ask(s, b"port", 5)), s.getsockname()[1])
        return socks

    def test_base_one_worker(self):
        server = echo_server(self, worker_num=1)
        self.check_echo(server)
        self.assertEqual(server.stop(), 0)
        server.expect("stopped")

    def test_base_two_workers(self):
        server = echo_server(self, worker_num=2)
        socks = self.check_echo(server, clients=8, workers=2)
        # BASE mode: connections() lists the calling worker's own
        self.assertLessEqual(int(ask(socks[0], b"conns", 3)), 8)
        self.assertEqual(server.stop(), 0)
        server.expect("stopped")

    def test_process_mode(self):
        server = echo_server(self, "swco.SERVER_PROCESS", worker_num=2, reactor_num=1)
        socks = self.check_echo(server, clients=3, workers=2)
        # PROCESS mode: the master's connections, seen from any worker
        self.assertEqual(int(ask(socks[1], b"conns", 3)), 3)
        self.assertEqual(server.stop(), 0)
        server.expect("stopped")

    def test_callbacks_in_coroutines_or_on_the_loop(self):
        on = echo_server(self, worker_num=1)
        s = connect(self, on.port)
        self.assertEqual(ask(s, b"cid?", 1), b"+")
        off = echo_server(self, worker_num=1, enable_coroutine=False)
        t = connect(self, off.port)
        self.assertEqual(ask(t, b"cid?", 1), b"-")
        self.assertEqual(ask(t, b"still there"), b"still there")
        self.assertEqual(on.stop(), 0)
        self.assertEqual(off.stop(), 0)

    def test_listener_with_own_options_and_callback(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0)
            srv.set(worker_num=1)
            srv.on("receive", lambda srv, fd, reactor_id, data: srv.send(fd, data))
            lines = srv.add_listener("127.0.0.1", 0)
            lines.set(open_eof_split=True, package_eof=b"\\r\\n")
            lines.on("receive", lambda srv, fd, reactor_id, data:
                     srv.send(fd, b"%d:" % srv.get_client_info(fd)["listener"] + data))
            say("listening on", srv.port, lines.port)
            srv.start()
        """)
        lines_port = int(server.first_line.split()[3])
        m = connect(self, server.port)
        self.assertEqual(ask(m, b"a\r\nb\r\n"), b"a\r\nb\r\n")  # unframed echo
        t = connect(self, lines_port)
        t.sendall(b"one\r\ntwo\r\nthr")
        self.assertEqual(recv_exactly(t, 14), b"1:one\r\n1:two\r\n")  # a receive per line
        t.sendall(b"ee\r\n")
        self.assertEqual(recv_exactly(t, 9), b"1:three\r\n")
        self.assertEqual(server.stop(), 0)


class TestServerUdp(unittest.TestCase):
    def test_packet_with_sender_address(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0, sock_type=swco.SOCK_UDP)
            srv.set(worker_num=1)

            def packet(srv, data, info):
                reply = b"%s:%d:%d:" % (info.address.encode(), info.port, info.listener)
                srv.sendto(info.address, info.port, reply + data, info.listener)

            srv.on("packet", packet)
            say("listening on", srv.port)
            srv.start()
        """)
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(c.close)
        c.bind(("127.0.0.1", 0))
        c.settimeout(LIMIT)
        me = c.getsockname()
        c.sendto(b"datagram", ("127.0.0.1", server.port))
        data, frm = c.recvfrom(2048)
        self.assertEqual(frm, ("127.0.0.1", server.port))
        self.assertEqual(data, b"127.0.0.1:%d:0:datagram" % me[1])
        self.assertEqual(server.stop(), 0)


class TestServerOptions(unittest.TestCase):
    """Options and setup errors, in this process (no start)."""

    def setUp(self):
        self.srv = swco.Server("127.0.0.1", 0)

    def test_port_and_repr(self):
        self.assertGreater(self.srv.port, 0)
        self.assertEqual(self.srv.listeners[0].port, self.srv.port)
        self.assertIn(str(self.srv.port), repr(self.srv))

    def test_unknown_option(self):
        with self.assertRaises(swco.Error) as cm:
            self.srv.set(no_such_option=1)
        self.assertEqual(cm.exception.code, swco_raw_code("SWCO_EOPTION"))
        self.assertEqual(cm.exception.option, "no_such_option")
        self.assertIn("no_such_option", str(cm.exception))

    def test_bad_value_stops_at_it(self):
        with self.assertRaises(swco.Error) as cm:
            self.srv.set({"worker_num": 3, "backlog": "lots", "max_request": 7})
        self.assertEqual(cm.exception.code, swco_raw_code("SWCO_EOPTVALUE"))
        self.assertEqual(cm.exception.option, "backlog")
        self.assertEqual(cm.exception.index, 1)
        self.assertEqual(self.srv.get_option("worker_num"), "3")  # applied before
        self.assertNotEqual(self.srv.get_option("max_request"), "7")  # not after

    def test_values_as_text(self):
        self.srv.set({"worker_num": 2}, open_tcp_nodelay=True, heartbeat_idle_time=1.5,
                     package_eof=b"\r\n", open_eof_check=False)
        self.assertEqual(self.srv.get_option("worker_num"), "2")
        self.assertIn(self.srv.get_option("open_tcp_nodelay"), ("1", "true"))
        self.assertIn(self.srv.get_option("open_eof_check"), ("0", "false"))
        self.assertEqual(float(self.srv.get_option("heartbeat_idle_time")), 1.5)
        self.assertEqual(self.srv.get_option("package_eof"), "\r\n")
        with self.assertRaises(TypeError):
            self.srv.set(worker_num=object())
        with self.assertRaises(ValueError):
            self.srv.set(package_eof=b"a\0b")
        with self.assertRaises(swco.Error) as cm:
            self.srv.get_option("no_such_option")
        self.assertEqual(cm.exception.code, swco_raw_code("SWCO_EOPTION"))

    def test_listener_options(self):
        lst = self.srv.add_listener("127.0.0.1", 0)
        self.assertEqual(lst.index, 1)
        self.assertGreater(lst.port, 0)
        self.assertNotEqual(lst.port, self.srv.port)
        lst.set(open_eof_split=True, package_eof="\n")
        with self.assertRaises(swco.Error) as cm:
            lst.set(package_max_length="big")
        self.assertEqual(cm.exception.code, swco_raw_code("SWCO_EOPTVALUE"))
        self.assertEqual(cm.exception.option, "package_max_length")
        with self.assertRaises(ValueError):
            lst.on("task", print)
        lst.on("receive", lambda *a: None)

    def test_modes_and_events(self):
        with self.assertRaises(swco.Error) as cm:
            swco.Server("127.0.0.1", 0, mode=swco.SERVER_THREAD)
        self.assertEqual(cm.exception.code, -errno.ENOTSUP)
        self.assertIn("THREAD", str(cm.exception))
        with self.assertRaises(swco.Error) as cm:
            swco.Server("127.0.0.1", 0, mode=99)
        self.assertEqual(cm.exception.code, -errno.EINVAL)
        with self.assertRaises(ValueError):
            self.srv.on("nonsense", print)
        with self.assertRaises(swco.Error):
            self.srv.on("dispatch", print)
        with self.assertRaises(swco.Error):
            self.srv.on("receive", 42)
        self.srv.on("WorkerStart", print)  # Swoole's spelling
        self.srv.on("worker_start", None)

    def test_calls_outside_a_running_server(self):
        self.assertEqual(self.srv.worker_id, -1)
        self.assertFalse(self.srv.exists(1))
        with self.assertRaises(swco.Error):
            self.srv.send(1, b"x")
        st = self.srv.stats()
        self.assertEqual(st["connection_num"], 0)
        self.assertIsInstance(self.srv.stats_prometheus(), str)


def swco_raw_code(name):
    return getattr(swco._swco, name)


class TestServerTasks(unittest.TestCase):
    def test_taskwait_and_finish(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0)
            srv.set(worker_num=1, task_worker_num=2)
            waiting = {}

            def task(srv, task_id, src, data):
                assert srv.is_task_worker and srv.worker_id >= 1, srv.worker_id
                if data["op"] == "double":
                    return {"result": data["n"] * 2, "by": srv.worker_id, "from": src}
                srv.finish(data["n"] + 1)  # explicit finish of the running task

            def finish(srv, task_id, result):
                srv.send(waiting.pop(task_id), b"finished %d" % result)

            def receive(srv, fd, reactor_id, data):
                cmd, n = data.split()
                if cmd == b"wait":
                    r = srv.taskwait({"op": "double", "n": int(n)}, timeout=LIMIT)
                    srv.send(fd, b"%d by %d from %d" % (r["result"], r["by"], r["from"]))
                else:
                    waiting[srv.task({"op": "incr", "n": int(n)})] = fd

            srv.on("task", task)
            srv.on("finish", finish)
            srv.on("receive", receive)
            say("listening on", srv.port)
            srv.start()
        """)
        s = connect(self, server.port)
        s.sendall(b"wait 21")
        reply = s.recv(100).split()
        self.assertEqual(reply[0], b"42")
        self.assertIn(int(reply[2]), (1, 2))  # a task worker's id
        self.assertEqual(reply[4], b"0")      # sent by worker 0
        s.sendall(b"async 41")
        self.assertEqual(s.recv(100), b"finished 42")
        self.assertEqual(server.stop(), 0)


class TestServerCoroutines(unittest.TestCase):
    def test_handler_waits_while_another_connection_is_served(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0)
            srv.set(worker_num=1)
            chan = None

            def worker_start(srv, wid):
                global chan
                chan = swco.Channel(1)

            def receive(srv, fd, reactor_id, data):
                if data == b"wait":
                    srv.send(fd, b"waiting")
                    value = chan.pop(LIMIT)       # this handler yields here
                    swco.sleep(0.001)              # and again
                    srv.send(fd, b"released " + value)
                elif data.startswith(b"release "):
                    chan.push(data[8:])
                    srv.send(fd, b"ok")
                else:
                    srv.send(fd, data)

            srv.on("worker_start", worker_start)
            srv.on("receive", receive)
            say("listening on", srv.port)
            srv.start()
        """)
        a = connect(self, server.port)
        b = connect(self, server.port)
        self.assertEqual(ask(a, b"wait", 7), b"waiting")
        self.assertEqual(ask(b, b"served meanwhile"), b"served meanwhile")
        self.assertEqual(ask(b, b"release 42", 2), b"ok")
        self.assertEqual(recv_exactly(a, 11), b"released 42")
        self.assertEqual(ask(a, b"after"), b"after")
        self.assertEqual(server.stop(), 0)

    def test_handlers_resume_out_of_order(self):
        # A waits, B waits on top of it, A is woken first (inside the
        # releasing handler) and runs deep Python calls, then B: each
        # handler keeps its own frames only if every coroutine the server
        # creates gets its own interpreter state.
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0)
            srv.set(worker_num=1)
            chans = {}

            def depth(n):
                if n == 0:
                    return 0
                mine = [n] * 4
                below = depth(n - 1)
                return below + mine[3]

            def receive(srv, fd, reactor_id, data):
                cmd, name, *rest = data.split()
                chan = chans.setdefault(name, swco.Channel(1))
                if cmd == b"wait":
                    kept = [name] * 3
                    srv.send(fd, b"waiting")
                    n = int(chan.pop(LIMIT))
                    total = depth(n)
                    swco.sleep(0.001)
                    intact = kept == [name] * 3 and depth(10) == 55
                    srv.send(fd, b"%d %s" % (total, b"ok" if intact else b"bad"))
                else:
                    chan.push(rest[0])
                    srv.send(fd, b"pushed")

            srv.on("receive", receive)
            say("listening on", srv.port)
            srv.start()
        """)
        a, b, c = (connect(self, server.port) for _ in range(3))
        self.assertEqual(ask(a, b"wait a", 7), b"waiting")
        self.assertEqual(ask(b, b"wait b", 7), b"waiting")
        self.assertEqual(ask(c, b"release a 200", 6), b"pushed")
        self.assertEqual(recv_exactly(a, 8), b"20100 ok")
        self.assertEqual(ask(c, b"release b 300", 6), b"pushed")
        self.assertEqual(recv_exactly(b, 8), b"45150 ok")
        self.assertEqual(server.stop(), 0)

    def test_tracing_sees_handlers(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0)
            srv.set(worker_num=1)
            calls = []

            def tracer(frame, event, arg):
                if event == "call":
                    calls.append(frame.f_code.co_name)

            def marker():
                pass

            def receive(srv, fd, reactor_id, data):
                if data == b"trace":
                    # turned on in another coroutine: this handler and the
                    # next ones see it when they are entered
                    swco.go(sys.settrace, tracer)
                marker()
                srv.send(fd, b"%d" % calls.count("marker"))

            srv.on("receive", receive)
            say("listening on", srv.port)
            srv.start()
        """)
        s = connect(self, server.port)
        counts = [ask(s, msg, 1) for msg in (b"trace", b"again", b"again")]
        self.assertEqual(counts, [b"1", b"2", b"3"])
        self.assertEqual(server.stop(), 0)

    def test_exception_in_callback_is_reported(self):
        server = ServerProcess(self, """
            srv = swco.Server("127.0.0.1", 0, mode=MODE)
            srv.set(worker_num=1)

            def receive(srv, fd, reactor_id, data):
                if data == b"boom":
                    srv.send(fd, b"failing")
                    raise ValueError("boom in receive")
                srv.send(fd, data)

            srv.on("receive", receive)
            srv.on("close", lambda srv, fd, reactor_id: 1 / 0)
            say("listening on", srv.port)
            srv.start()
        """.replace("MODE", "swco.SERVER_BASE"))
        s = connect(self, server.port)
        self.assertEqual(ask(s, b"boom", 7), b"failing")
        self.assertEqual(ask(s, b"ping"), b"ping")
        s.close()
        t = connect(self, server.port)  # the worker lives on after both
        self.assertEqual(ask(t, b"pong"), b"pong")
        self.assertEqual(server.stop(), 0)
        err = server.stderr()
        self.assertIn("exception in the receive callback", err)
        self.assertIn("ValueError: boom in receive", err)
        self.assertIn("exception in the close callback", err)
        self.assertIn("ZeroDivisionError", err)


class TestExample(unittest.TestCase):
    SRCDIR = os.environ.get("abs_top_srcdir") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
    EXAMPLE = os.path.join(SRCDIR, "examples", "python", "tcp_echo_server.py")

    def run_example(self, *args):
        with open(self.EXAMPLE, encoding="utf-8") as f:
            body = f.read().replace("if __name__ == \"__main__\":", "if True:")
        body = "sys.argv = %r\n" % (["tcp_echo_server.py"] + list(args)) + body
        server = ServerProcess(self, body)
        socks = [connect(self, server.port) for _ in range(3)]
        for i, s in enumerate(socks):
            self.assertEqual(ask(s, b"echo %d" % i), b"echo %d" % i)
        self.assertEqual(server.stop(), 0)

    def test_example_base(self):
        self.run_example("--workers", "2")

    def test_example_process(self):
        self.run_example("--mode", "process", "--workers", "2")


if __name__ == "__main__":
    unittest.main()

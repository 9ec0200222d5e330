"""swco: Swoole-style stackful coroutines for Python, on libswco.

Python code runs inside libswco coroutines.  A coroutine that waits
(sleep, channel, WaitGroup, Mutex) yields to the event loop and the others
run; each keeps its own frames, exception being handled and contextvars.

    import swco

    def worker(n, chan):
        swco.sleep(0.1)
        chan.push(n * n)

    def main():
        chan = swco.Channel(10)
        for i in range(3):
            swco.go(worker, i, chan)
        print(sorted(chan.pop() for _ in range(3)))

    swco.run(main)

Failures raise swco.Error (or a subclass) whose .code is the negative
libswco error code (-errno, or SWCO_E*) and .name its symbolic name.
Times are in seconds (floats), as in time.sleep().
"""

import atexit as _atexit
import collections as _collections
import contextvars as _contextvars
import errno as _errno
import operator as _operator
import os as _os
import signal as _signal
import sys as _sys
import threading as _threading
import time as _time
import traceback as _traceback
import weakref as _weakref

# The C extension's wrappers directly (no Python frame per call);
# swco_raw, SWIG's proxy module over it, registers the classes the calls
# return objects of, so importing it makes them owning proxies.
import _swco
import swco_raw as _raw

__all__ = [
    "Error", "TimeoutError", "ClosedError", "CancelledError",
    "run", "go", "sleep", "defer", "getcid", "getpcid", "exists", "cancel",
    "yield_", "resume", "is_cancelled", "backtrace", "list_coroutines", "stats", "wait",
    "after", "tick", "clear", "Channel", "WaitGroup", "Mutex", "Cond",
    "strerror", "excepthook", "version", "configure",
    "Table", "Atomic", "Atomic64", "Lock", "Process", "ProcessPool", "exec",
    "async_call", "Socket",
]

Error = _swco.Error
TimeoutError = _swco.TimeoutError  # noqa: A001 (also a builtins.TimeoutError)
ClosedError = _swco.ClosedError
CancelledError = _swco.CancelledError

FOREVER = -1.0
_FOREVER_SECONDS = float("inf")


def version():
    """Return the libswco version string, e.g. "0.1.0"."""
    return _swco.swco_version_string()


def strerror(code):
    """Return the message for a libswco error code (negative int)."""
    return _swco.swco_strerror(code)


def excepthook(cid, exc):
    """Report an exception that ended coroutine cid (or a timer/defer call).

    The default prints the traceback to sys.stderr.  Replace swco.excepthook
    with your own function(cid, exc) to log elsewhere.  The exception never
    propagates into another coroutine.
    """
    print("swco: unhandled exception in coroutine %d:" % cid, file=_sys.stderr)
    _traceback.print_exception(type(exc), exc, exc.__traceback__, file=_sys.stderr)


def _as_bytes(data):
    """data as bytes; TypeError unless it is bytes-like (bytes(5) would be
    five NUL bytes, silently)."""
    return data if type(data) is bytes else bytes(memoryview(data))


def _coroutine_list():
    # room for the coroutines a callback might start meanwhile
    return _swco.swco_coroutine_list(_swco.swco_coroutine_count() + 64)


def _timeout_result(t):
    """A timeout as the C getters return it (INFINITY: never), with
    swco.py's -1.0 for never."""
    return -1.0 if t == _FOREVER_SECONDS else t


def _noop(*args):
    pass


def _check_callable(fn):
    if not callable(fn):
        _swco.pyswco_raise(-_errno.EINVAL)


class _ThreadState(_threading.local):
    """Per-thread loop bookkeeping: the exception that stops the loop
    (SystemExit, KeyboardInterrupt) and the timers Python added."""

    def __init__(self):
        self.exit = None
        self.timers = set()


_state = _ThreadState()


def _stop_loop(exc):
    """Stop this thread's loop because of exc (SystemExit or
    KeyboardInterrupt, from a coroutine or from a signal handler): cancel
    every coroutine (they unwind: finally blocks and defers run) and every
    timer; run() or wait() then re-raises exc."""
    if _state.exit is None:
        _state.exit = exc
    for tid in list(_state.timers):
        _state.timers.discard(tid)
        try:
            _swco.swco_timer_clear(tid)
        except Error:
            pass
    me = _swco.swco_coroutine_id()
    for cid in _coroutine_list():
        if cid != me:
            try:
                _swco.swco_coroutine_cancel(cid)
            except Error:
                pass


def _guarded(fn, args, kwargs, ctx, main_error=None):
    """Build the callable a coroutine runs: fn(*args, **kwargs) in its own
    copy of the creator's contextvars, reporting what escapes it."""
    _check_callable(fn)

    def body():
        try:
            if ctx is None:
                fn(*args, **kwargs)
            else:
                ctx.run(fn, *args, **kwargs)
        except CancelledError:
            pass  # a cancelled coroutine unwinding is not an error
        except (SystemExit, KeyboardInterrupt) as exc:
            _stop_loop(exc)
        except BaseException as exc:  # noqa: B902 (reported, not swallowed)
            if main_error is not None:
                main_error.append(exc)
                return
            try:
                excepthook(_swco.swco_coroutine_id(), exc)
            except BaseException:  # a broken hook must not kill the loop
                _traceback.print_exc()
    return body


def _drive(loop, *args):
    """Run loop(*args, _stop_loop), then raise what stopped it, if anything."""
    _state.exit = None
    try:
        loop(*args, _stop_loop)
    finally:
        exc, _state.exit = _state.exit, None
        if exc is not None:
            raise exc


def run(fn, *args, **kwargs):
    """Run fn(*args, **kwargs) as the first coroutine, then the event loop.

    Returns when every coroutine, timer and event is done.  An exception
    raised by fn is re-raised here once the loop has finished; exceptions in
    other coroutines are reported through swco.excepthook.  SystemExit or
    KeyboardInterrupt (Ctrl-C, even while every coroutine waits) in any
    coroutine stops the loop: every coroutine is cancelled and unwinds, every
    timer is cleared, and run() re-raises it.  If coroutines are left
    waiting on something nothing can wake (a deadlock), they are cancelled
    (their waits raise CancelledError, so finally blocks run) and run()
    raises swco.Error with code SWCO_EDEADLOCK.  Raises swco.Error with
    SWCO_ECOSTATE when called from a coroutine.  The GIL is released while
    the loop waits, so other threads run (and may run loops of their own).
    """
    errors = []
    _drive(_swco.pyswco_run, _guarded(fn, args, kwargs, _contextvars.copy_context(), errors))
    if errors:
        raise errors[0]


def go(fn, *args, **kwargs):
    """Start fn(*args, **kwargs) in a new coroutine and run it at once.

    The caller continues when the new coroutine first waits or ends
    (Swoole's go()).  The coroutine gets a copy of the caller's contextvars
    context and an 8 MiB (reserved, not committed) C stack, so deep
    recursion raises RecursionError.  Returns the coroutine id.  Outside
    swco.run() the coroutine runs until it first waits; swco.wait() (or
    interpreter exit, which cancels it) finishes it.
    """
    return _swco.pyswco_go(_guarded(fn, args, kwargs, _contextvars.copy_context()))


def sleep(seconds):
    """Suspend the current coroutine for seconds (ms resolution).

    Other coroutines run meanwhile.  Outside a coroutine it blocks the
    thread (as time.sleep(), releasing the GIL).  Raises CancelledError when
    the coroutine is cancelled and swco.Error (-EINVAL) for a negative value.
    """
    seconds = float(seconds)
    if 0 <= seconds < _FOREVER_SECONDS and _swco.swco_coroutine_id() == 0:
        _time.sleep(seconds)
    else:
        _swco.swco_sleep(seconds)


def defer(fn, *args, **kwargs):
    """Call fn(*args, **kwargs) when the current coroutine ends (LIFO).

    Deferred calls run after the coroutine's function returns or raises,
    on its own stack.  Raises swco.Error (SWCO_ENOTCO) outside a coroutine.
    """
    _check_callable(fn)

    def call():
        try:
            fn(*args, **kwargs)
        except BaseException as exc:  # noqa: B902
            excepthook(_swco.swco_coroutine_id(), exc)
    _swco.swco_defer(call)


def getcid():
    """Return the current coroutine id, or -1 outside coroutines."""
    return _swco.swco_coroutine_id() or -1


def getpcid(cid=None):
    """Return the id of the coroutine that created cid (default: current).

    -1 means it was created outside a coroutine.
    """
    return _swco.swco_coroutine_parent_id(0 if cid is None else cid) or -1


def exists(cid):
    """Return True when coroutine cid is alive in this thread."""
    return bool(_swco.swco_coroutine_exists(cid))


def cancel(cid):
    """Cancel coroutine cid: its current and later waits raise CancelledError."""
    _swco.swco_coroutine_cancel(cid)


def is_cancelled():
    """Return True when the current coroutine was cancelled."""
    return bool(_swco.swco_coroutine_is_cancelled())


# C functions (pyswco.c), so that a switch costs no Python frame:
# yield_() suspends the current coroutine until swco.resume(its cid);
# resume(cid) runs coroutine cid, suspended by yield_(), at once.
yield_ = _swco.yield_
resume = _swco.resume


def backtrace(cid=None):
    """Return where coroutine cid (default: the current one) is.

    The result is a traceback.StackSummary of its Python frames, outermost
    first (print it with traceback.print_list() or .format()); a suspended
    coroutine shows the call it waits in.  Swoole's getBackTrace().  Raises
    swco.Error (SWCO_ENOCO) for an unknown cid.
    """
    if cid is None:
        cid = _swco.swco_coroutine_id()
    frames = _swco.pyswco_backtrace(cid)
    return _traceback.StackSummary.from_list([(f, n, name, None) for f, n, name in frames])


def configure(max_coroutine=None, stack_size=None, log_level=None):
    """Set process-wide options (Swoole's Coroutine::set); None keeps one.

    max_coroutine: how many coroutines may be alive at once (default
    100000; go() raises swco.Error SWCO_ECOLIMIT beyond it).  stack_size:
    bytes of (reserved) C stack per coroutine, at least 8 MiB for Python
    coroutines.  log_level: "debug", "info", "warning", "error" or "none"
    for the library's own diagnostics on stderr.  Returns the options now
    in force as a dict.
    """
    if max_coroutine is not None:
        _swco.swco_coroutine_set_max(int(max_coroutine))
    if stack_size is not None:
        _swco.swco_coroutine_set_stack_size(int(stack_size))
    if log_level is not None:
        levels = ("debug", "info", "warning", "error", "none")
        if log_level not in levels:
            _swco.pyswco_raise(-_errno.EINVAL)
        _swco.swco_log_set_level(levels.index(log_level))
    return {
        "max_coroutine": _swco.swco_coroutine_get_max(),
        "stack_size": _swco.swco_coroutine_get_stack_size(),
        "log_level": ("debug", "info", "warning", "error", "none")[_swco.swco_log_get_level()],
    }


def list_coroutines():
    """Return the ids of the coroutines alive in this thread."""
    return _coroutine_list()


def stats():
    """Return the scheduler's counters as a dict (live, peak, created, ...)."""
    st = _raw.swco_coroutine_stats_t()
    _swco.swco_coroutine_stats(st)
    return {name: getattr(st, name) for name in (
        "live", "peak", "created", "max", "stack_size", "stack_bytes", "pooled_stacks")}


def wait():
    """Run the event loop until nothing is left (after go() outside run()).

    Raises swco.Error (SWCO_EDEADLOCK), SystemExit or KeyboardInterrupt as
    run() does.
    """
    _drive(_swco.pyswco_wait)


def _ms(seconds):
    ms = int(round(float(seconds) * 1000))
    return ms if ms >= 1 else 1


def _timer(seconds, flags, fn, args, kwargs):
    body = _guarded(fn, args, kwargs, None)
    box = []

    def once():
        _state.timers.discard(box[0])
        body()

    fn = body if flags else once

    def fire(timer_id):
        # each run in a coroutine of its own, with a Python-sized stack
        _swco.pyswco_go(fn)
    tid = _swco.swco_timer_add(_ms(seconds) / 1000.0, flags | _swco.SWCO_TIMER_NO_COROUTINE, fire)
    box.append(tid)
    _state.timers.add(tid)
    return tid


def after(seconds, fn, *args, **kwargs):
    """Call fn(*args, **kwargs) once after seconds, in a new coroutine.

    Returns the timer id for swco.clear().  The timer keeps the loop alive.
    """
    return _timer(seconds, 0, fn, args, kwargs)


def tick(seconds, fn, *args, **kwargs):
    """Call fn(*args, **kwargs) every seconds, each time in a new coroutine.

    Runs until swco.clear(id); returns the timer id.
    """
    return _timer(seconds, _swco.SWCO_TIMER_TICK, fn, args, kwargs)


def clear(timer_id):
    """Stop a timer; raises swco.Error (SWCO_ENOTIMER) for an unknown id."""
    _swco.swco_timer_clear(timer_id)
    _state.timers.discard(timer_id)


# Channel is a C type (pyswco.c): push() and pop() are one C call each.
# push(value, timeout=FOREVER), pop(timeout=FOREVER), close(), the closed,
# capacity, producers and consumers properties, len() and iteration until
# closed and drained; weak references and subclasses are allowed.
Channel = _swco.Channel


class WaitGroup:
    """Wait for a group of coroutines to finish (Go's sync.WaitGroup).

    add(n) before starting them, done() in each, wait() in the waiter.
    """

    __slots__ = ("_c",)

    def __init__(self, count=0):
        self._c = None
        self._c = _swco.swco_waitgroup_new()
        if count:
            self.add(count)

    def add(self, delta=1):
        """Add delta (may be negative) to the count; -ERANGE below zero."""
        _swco.swco_waitgroup_add(self._c, delta)

    def done(self):
        """Subtract one from the count."""
        _swco.swco_waitgroup_done(self._c)

    def wait(self, timeout=FOREVER):
        """Wait until the count is zero (timeout seconds, <= 0: for ever).

        Raises swco.TimeoutError or CancelledError.
        """
        _swco.swco_waitgroup_wait(self._c, float(timeout))

    @property
    def count(self):
        """The current count."""
        return _swco.swco_waitgroup_count(self._c)



class Mutex:
    """A mutex for coroutines of one thread; waiting yields the coroutine.

    Usable as a context manager: ``with mutex: ...``.
    """

    __slots__ = ("_c",)

    def __init__(self):
        self._c = None
        self._c = _swco.swco_mutex_new()

    def lock(self, timeout=FOREVER):
        """Lock, waiting up to timeout seconds (<= 0: for ever).

        Raises swco.TimeoutError, CancelledError, or swco.Error (-EDEADLK)
        when the calling coroutine holds it already.
        """
        _swco.swco_mutex_lock(self._c, float(timeout))

    def trylock(self):
        """Lock without waiting; return False when it is held."""
        try:
            _swco.swco_mutex_trylock(self._c)
        except Error as exc:
            if exc.name == "EBUSY":
                return False
            raise
        return True

    def unlock(self):
        """Unlock; swco.Error (-EPERM) when the caller does not hold it."""
        _swco.swco_mutex_unlock(self._c)

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()
        return False



class Cond:
    """A condition variable for coroutines, used with a Mutex."""

    __slots__ = ("_c",)

    def __init__(self):
        self._c = None
        self._c = _swco.swco_cond_new()

    def wait(self, mutex, timeout=FOREVER):
        """Release mutex, wait for notify(), lock mutex again."""
        _swco.swco_cond_wait(self._c, mutex._c, float(timeout))

    def notify(self):
        """Wake the longest waiting coroutine."""
        _swco.swco_cond_signal(self._c)

    def notify_all(self):
        """Wake every waiting coroutine."""
        _swco.swco_cond_broadcast(self._c)



class Table:
    """A fixed-capacity hash table in shared memory (Swoole's Table).

    Rows are dicts of column values keyed by str (up to 63 bytes).  Create
    the table before forking (Process, ProcessPool, os.fork) and every
    child reads and writes the same rows.  Either pass the columns::

        t = swco.Table(1024, columns=[("name", swco.Table.STRING, 64),
                                      ("n", swco.Table.INT)])

    or add them with column() and then call create().  With name="/x"
    (a shm_open() name) the table is named instead: unrelated processes
    open it with Table.attach("/x", columns) and it stays until
    Table.unlink("/x").  INT columns hold
    64-bit signed ints, DOUBLE floats, STRING up to size bytes (given as str
    or bytes, read back as str; bytes that are not UTF-8 come back as
    surrogate escapes).  Errors raise swco.Error with the libswco code:
    SWCO_EKEYTOOLONG, SWCO_ENOCOLUMN, SWCO_EFULL, SWCO_EVALTOOLONG, ...
    """

    INT = _swco.SWCO_TABLE_INT
    DOUBLE = _swco.SWCO_TABLE_DOUBLE
    STRING = _swco.SWCO_TABLE_STRING
    __slots__ = ("_c", "_created", "_name")

    def __init__(self, size, columns=None, name=None):
        self._c = None
        self._created = False
        self._name = name
        self._c = _swco.swco_table_new(int(size))
        if columns is not None:
            for col in columns:
                self.column(*col)
            self.create()

    def column(self, name, type, size=0):  # noqa: A002 (Swoole's name)
        """Add a column before create(): type is Table.INT, DOUBLE or STRING;
        size is the largest string in bytes (STRING only)."""
        _swco.swco_table_column(self._c, name, type, int(size))

    def create(self):
        """Allocate the table: in anonymous shared memory (share it by
        forking afterwards), or, for a Table made with name=, in named
        shared memory (swco.Error -EEXIST when the name is taken)."""
        if self._name is None:
            _swco.swco_table_create(self._c)
        else:
            _swco.swco_table_create_named(self._c, self._name)
        self._created = True

    @classmethod
    def attach(cls, name, columns):
        """Open the named table another process (or this one) created with
        Table(size, columns, name=name); return a new Table handle on it.

        columns must be the creator's, in the same order with the same
        types and string sizes (else swco.Error SWCO_ESCHEMA); the capacity
        is the creator's.  Raises swco.Error -ENOENT when no table has that
        name and -EAGAIN while its creator is still setting it up.
        """
        table = cls(1, name=name)
        for col in columns:
            table.column(*col)
        _swco.swco_table_attach(table._c, name)
        table._created = True
        return table

    @staticmethod
    def unlink(name):
        """Remove the name of a named table (shm_unlink); processes that
        have it open keep using it, and the memory goes with the last one.
        Raises swco.Error -ENOENT for an unknown name."""
        _swco.swco_table_unlink(name)

    @property
    def name(self):
        """The shm_open() name of a named table, None for an anonymous one."""
        return self._name

    @property
    def columns(self):
        """The columns as a list of (name, type) tuples."""
        n = _swco.swco_table_column_count(self._c)
        names = [_swco.swco_table_column_name(self._c, i) for i in range(n)]
        return [(name, _swco.swco_table_column_type(self._c, name)) for name in names]

    @property
    def memory_size(self):
        """Bytes of shared memory the table uses (or will use)."""
        return _swco.swco_table_memory_size(self._c)

    def _value(self, row, col, type_):
        if type_ == _swco.SWCO_TABLE_INT:
            return _swco.swco_table_row_get_int(row, col)
        if type_ == _swco.SWCO_TABLE_DOUBLE:
            return _swco.swco_table_row_get_double(row, col)
        cap = 256
        while True:
            try:
                data = _swco.swco_table_row_get_string(row, col, cap)
            except Error as exc:
                if exc.code != -_errno.ENOSPC:
                    raise
                cap *= 2
                continue
            return data.decode("utf-8", "surrogateescape")

    def _row_dict(self, row):
        c = self._c
        cols = [_swco.swco_table_column_name(c, i)
                for i in range(_swco.swco_table_column_count(c))]
        return {col: self._value(row, col, _swco.swco_table_column_type(c, col)) for col in cols}

    def _fill(self, row, values):
        """The dict values ({column: value}) into the row buffer."""
        if not isinstance(values, dict):
            raise TypeError("a table row is a dict of column values")
        for col, v in values.items():
            if not isinstance(col, str):
                raise TypeError("column names are str")
            type_ = _swco.swco_table_column_type(self._c, col)
            if type_ == _swco.SWCO_TABLE_INT:
                _swco.swco_table_row_set_int(row, col, _operator.index(v))
            elif type_ == _swco.SWCO_TABLE_DOUBLE:
                _swco.swco_table_row_set_double(row, col, float(v))
            else:
                if not isinstance(v, (str, bytes)):
                    raise TypeError("a STRING column takes str or bytes, not %s"
                                    % type(v).__name__)
                _swco.swco_table_row_set_string(row, col, v)

    def set(self, key, values):
        """Write the columns in the dict values to row key, creating the row
        (other columns zero) when absent; all under the row's lock."""
        c = self._c
        row = _swco.swco_table_row_new(c)
        self._fill(row, values)
        if values:
            _swco.swco_table_set_row(c, key, row)
        elif not _swco.swco_table_exists(c, key) and _swco.swco_table_column_count(c) > 0:
            # no column: just make sure the row exists
            col = _swco.swco_table_column_name(c, 0)
            type_ = _swco.swco_table_column_type(c, col)
            if type_ == _swco.SWCO_TABLE_INT:
                _swco.swco_table_incr(c, key, col, 0)
            elif type_ == _swco.SWCO_TABLE_DOUBLE:
                _swco.swco_table_incr_double(c, key, col, 0.0)
            else:
                _swco.swco_table_set_string(c, key, col, b"")

    def _get(self, key, column):
        c = self._c
        row = _swco.swco_table_row_new(c)
        _swco.swco_table_get_row(c, key, row)
        if column is None:
            return self._row_dict(row)
        return self._value(row, column, _swco.swco_table_column_type(c, column))

    def get(self, key, column=None, default=None):
        """Return row key as a dict (or only its column), default when absent."""
        try:
            return self._get(key, column)
        except Error as exc:
            if exc.code == -_errno.ENOENT:
                return default
            raise

    def update(self, key, values):
        """Read, change and write back row key under its lock; return the
        row as written (a dict of every column).

        values is a dict of the columns to change, or a callable fn(row)
        that gets the row as a dict and returns the dict of columns to
        change (None: none).  A row that is absent is created first, with
        every column zero (and stays when fn raises).  fn runs with the row
        locked, so its read-modify-write is atomic across processes: keep it
        short, and let it neither wait (sleep, channel, socket: another
        coroutine touching the row would spin for ever) nor use the table.
        An exception from fn leaves the row unchanged and propagates.
        """
        if not isinstance(values, dict) and not callable(values):
            raise TypeError("update() takes a dict of column values or a callable(row)")
        written = []

        def change(row):
            new = values(self._row_dict(row)) if callable(values) else values
            if new is not None:
                self._fill(row, new)
            # the buffer holds the old row with the new columns set
            written.append(self._row_dict(row))
            return 0
        _swco.swco_table_update(self._c, key, change)
        return written[0]

    def incr(self, key, column, by=1):
        """Add by to an INT or DOUBLE column (creating the row) and return
        the new value."""
        if _swco.swco_table_column_type(self._c, column) == _swco.SWCO_TABLE_DOUBLE:
            return _swco.swco_table_incr_double(self._c, key, column, float(by))
        return _swco.swco_table_incr(self._c, key, column, _operator.index(by))

    def decr(self, key, column, by=1):
        """Subtract by from a column; returns the new value."""
        return self.incr(key, column, -by)

    def delete(self, key):
        """Delete row key; returns False when there was none."""
        try:
            _swco.swco_table_del(self._c, key)
        except Error as exc:
            if exc.code == -_errno.ENOENT:
                return False
            raise
        return True

    def exists(self, key):
        """Return True when row key exists."""
        return bool(_swco.swco_table_exists(self._c, key))

    def keys(self):
        """Return a list of the keys present now."""
        it = _swco.swco_table_iter_new(self._c)
        keys = []
        while True:
            key = _swco.swco_table_iter_next(it)
            if not key:
                return keys
            keys.append(key)

    def stats(self):
        """Return the table's figures as a dict (capacity, rows_used, ...)."""
        st = _raw.swco_table_stats_t()
        _swco.swco_table_stats(self._c, st)
        return {name: getattr(st, name) for name in (
            "capacity", "rows_used", "buckets", "conflict_capacity", "conflict_used",
            "longest_chain", "memory_size")}

    def __getitem__(self, key):
        try:
            return self._get(key, None)
        except Error as exc:
            if exc.code == -_errno.ENOENT:
                raise KeyError(key) from None
            raise

    def __setitem__(self, key, values):
        self.set(key, values)

    def __delitem__(self, key):
        if not self.delete(key):
            raise KeyError(key)

    def __contains__(self, key):
        return self.exists(key)

    def __len__(self):
        return _swco.swco_table_count(self._c)

    def __iter__(self):
        """Iterate over a snapshot of the keys."""
        return iter(self.keys())



class Atomic:
    """A 32-bit unsigned counter in shared memory, shared across fork().

    Arithmetic wraps modulo 2**32.  wait()/wakeup() use it as a flag
    between processes (Swoole's Atomic).
    """

    __slots__ = ("_c",)
    _new, _pre = _swco.swco_atomic_new, "swco_atomic_"

    def __init__(self, value=0):
        self._c = None
        self._c = type(self)._new(value)

    def _call(self, name, *args):
        return getattr(_swco, self._pre + name)(self._c, *args)

    def add(self, n=1):
        """Add n and return the new value."""
        return self._call("add", n)

    def sub(self, n=1):
        """Subtract n and return the new value."""
        return self._call("sub", n)

    def get(self):
        """Return the current value."""
        return self._call("get")

    def set(self, value):
        """Store value."""
        self._call("set", value)

    def cmpset(self, cmp, value):
        """Store value if the counter equals cmp; return True when stored."""
        return bool(self._call("cmpset", cmp, value))

    def wait(self, timeout=1.0):
        """Wait (blocking the thread) until wakeup(); True when woken,
        False on timeout.  A counter at 1 is reset to 0 at once."""
        try:
            _swco.swco_atomic_wait(self._c, float(timeout))
        except TimeoutError:
            return False
        return True

    def wakeup(self, n=1):
        """Wake up to n waiters; return how many were woken."""
        return _swco.swco_atomic_wakeup(self._c, n)



class Atomic64(Atomic):
    """A 64-bit signed counter in shared memory (no wait/wakeup)."""

    __slots__ = ()
    _new, _pre = _swco.swco_atomic64_new, "swco_atomic64_"

    def wait(self, timeout=1.0):
        """Not available on a 64-bit counter: raises swco.Error (-EINVAL)."""
        _swco.pyswco_raise(-_errno.EINVAL)

    def wakeup(self, n=1):
        """Not available on a 64-bit counter: raises swco.Error (-EINVAL)."""
        _swco.pyswco_raise(-_errno.EINVAL)


class Lock:
    """A lock in shared memory, shared with processes forked after it.

    Lock(Lock.MUTEX) (robust), Lock.RWLOCK, Lock.SPINLOCK or Lock.SEM
    (value: the semaphore's count).  lock() inside a coroutine yields while
    the lock is busy; outside one it blocks the thread (releasing the GIL).
    Usable as a context manager: ``with lock: ...``.  When a mutex's holder
    died holding it, lock() takes it over and sets .recovered to True.
    """

    MUTEX = _swco.SWCO_LOCK_MUTEX
    RWLOCK = _swco.SWCO_LOCK_RWLOCK
    SPINLOCK = _swco.SWCO_LOCK_SPINLOCK
    SEM = _swco.SWCO_LOCK_SEM
    __slots__ = ("_c", "recovered")

    def __init__(self, kind=MUTEX, value=0):
        self._c = None
        self.recovered = False
        self._c = _swco.swco_lock_new(kind, value)

    def _take(self, fn, *args):
        try:
            fn(self._c, *args)
        except Error as exc:
            if exc.name != "EOWNERDEAD":
                raise
            self.recovered = True

    @property
    def kind(self):
        """The kind given at creation (Lock.MUTEX, ...)."""
        return _swco.swco_lock_get_type(self._c)

    def lock(self, timeout=FOREVER):
        """Take the lock (the write lock of a RWLOCK), waiting up to timeout
        seconds (<= 0: for ever); raises swco.TimeoutError."""
        if _swco.swco_coroutine_id() != 0:
            self._take(_swco.swco_lock_co_lock, float(timeout))
        else:
            self._take(_swco.swco_lock_timedlock, float(timeout))

    def lock_read(self, timeout=FOREVER):
        """Take a read lock (RWLOCK; the same as lock() for other kinds)."""
        if _swco.swco_coroutine_id() != 0:
            self._take(_swco.swco_lock_co_lock_read, float(timeout))
        else:
            self._take(_swco.swco_lock_timedlock_read, float(timeout))

    def trylock(self):
        """Take the lock if free at once; return False when it is held."""
        try:
            self._take(_swco.swco_lock_trylock)
        except Error as exc:
            if exc.code == -_errno.EBUSY:
                return False
            raise
        return True

    def trylock_read(self):
        """Take a read lock if possible at once; False when not."""
        try:
            self._take(_swco.swco_lock_trylock_read)
        except Error as exc:
            if exc.code == -_errno.EBUSY:
                return False
            raise
        return True

    def unlock(self):
        """Release the lock (post a semaphore)."""
        _swco.swco_lock_unlock(self._c)

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()
        return False



def _flush_stdio():
    for stream in (_sys.stdout, _sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 (a closed stream must not stop the exit)
            pass


def _exit_status(exc):
    """The process status SystemExit(exc.code) stands for."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _child_exit(fn, args, kwargs):
    """Run fn in a forked child, then leave the process with its status:
    0, SystemExit's code, or 1 after printing an exception's traceback."""
    code = 0
    try:
        fn(*args, **kwargs)
    except SystemExit as exc:
        code = _exit_status(exc)
    except BaseException:  # noqa: B902 (reported, then the child exits)
        _traceback.print_exc()
        code = 1
    _flush_stdio()
    _os._exit(code)


class Process:
    """A child process running a Python function, with an IPC channel.

    Process(fn, *args, redirect_stdio=False, ipc=Process.IPC_STREAM,
    **kwargs); start() forks and calls fn(process, *args, **kwargs) in the
    child, where write()/read() talk to the parent.  The child exits with
    status 0 when fn returns, SystemExit's code, or 1 after an uncaught
    exception (traceback on stderr).  Do not use the parent's coroutines in
    the child; a child started outside swco.run() may call swco.run().
    read(), write() and wait() yield inside a coroutine and block (wait()
    releasing the GIL) outside one.
    """

    IPC_NONE = _swco.SWCO_PROCESS_IPC_NONE
    IPC_STREAM = _swco.SWCO_PROCESS_IPC_STREAM
    IPC_DGRAM = _swco.SWCO_PROCESS_IPC_DGRAM
    __slots__ = ("_c", "__weakref__")

    def __init__(self, fn, *args, redirect_stdio=False, ipc=IPC_STREAM, **kwargs):
        self._c = None
        _check_callable(fn)
        ref = _weakref.ref(self)  # the child finds the object alive in start()

        def child(_raw_proc):
            _child_exit(fn, (ref(),) + args, kwargs)
        self._c = _swco.swco_process_new(child, ipc, 1 if redirect_stdio else 0)

    def start(self):
        """Fork the child and run the function there; return its pid.

        sys.stdout and sys.stderr are flushed first, so the child does not
        write the parent's buffered output again."""
        _flush_stdio()
        return _swco.swco_process_start(self._c)

    @property
    def pid(self):
        """The child's pid (its own pid in the child), 0 before start()."""
        return _swco.swco_process_pid(self._c)

    def write(self, data, timeout=FOREVER):
        """Send bytes over the channel; return how many were sent."""
        return _swco.swco_process_write(self._c, _as_bytes(data), float(timeout))

    def read(self, size=65536, timeout=FOREVER):
        """Receive up to size bytes (b"" at end of stream)."""
        return _swco.swco_process_read(self._c, int(size), float(timeout))

    def close(self):
        """Close this side of the channel; the other side reads b""."""
        _swco.swco_process_close(self._c)

    def use_queue(self, key=0):
        """Give the process a System V message queue (before start()); key
        0 makes a private one.  Then push() and pop() work on both sides."""
        _swco.swco_process_use_queue(self._c, int(key))

    def push(self, data):
        """Put one message (bytes, 1..65536) on the queue."""
        return _swco.swco_process_push(self._c, _as_bytes(data))

    def pop(self, size=65536, timeout=FOREVER):
        """Take the oldest message from the queue (cut to size bytes)."""
        return _swco.swco_process_pop(self._c, int(size), float(timeout))

    def remove_queue(self):
        """Delete the message queue from the system."""
        _swco.swco_process_queue_remove(self._c)

    def wait(self, timeout=FOREVER):
        """Wait for the child to exit and reap it; return its exit code
        (None when a signal killed it, see exit_signal)."""
        _swco.swco_process_wait(self._c, float(timeout))
        return self.exit_code

    @property
    def exit_code(self):
        """Exit status of the reaped child, None when killed or not reaped."""
        try:
            code = _swco.swco_process_exit_code(self._c)
        except Error:
            return None  # not reaped yet
        return None if _swco.swco_process_exit_signal(self._c) else code

    @property
    def exit_signal(self):
        """Signal that killed the reaped child, 0 otherwise."""
        return _swco.swco_process_exit_signal(self._c)

    def kill(self, signo=_signal.SIGTERM):
        """Send signo to the child."""
        _swco.swco_process_kill(self.pid, int(signo))



class ProcessPool:
    """A pool of forked worker processes run by a manager (Swoole's
    Process\\Pool).

    ProcessPool(workers, ipc=ProcessPool.IPC_UNIXSOCK, on_message=fn,
    on_worker_start=fn, on_worker_stop=fn, queue_key=0).  Callbacks run in
    the workers: on_worker_start(pool, worker_id), on_message(pool,
    worker_id, data: bytes), on_worker_stop(pool, worker_id); an exception
    in one is printed and the worker goes on.  start() makes the calling
    process the manager and blocks (holding the GIL) until the pool stops:
    shutdown() from any process, or SIGTERM to the manager.  Messages reach
    the workers through send(worker_id, data) (IPC_UNIXSOCK), push(data)
    (IPC_MSGQUEUE) or connections to listen()'s socket (IPC_SOCKET).
    Share results through a Table or Atomic created before start().
    """

    IPC_NONE = _swco.SWCO_POOL_IPC_NONE
    IPC_MSGQUEUE = _swco.SWCO_POOL_IPC_MSGQUEUE
    IPC_SOCKET = _swco.SWCO_POOL_IPC_SOCKET
    IPC_UNIXSOCK = _swco.SWCO_POOL_IPC_UNIXSOCK
    __slots__ = ("_c", "__weakref__")

    def __init__(self, workers, ipc=IPC_UNIXSOCK, on_message=None, on_worker_start=None,
                 on_worker_stop=None, queue_key=0):
        self._c = None
        for fn in (on_message, on_worker_start, on_worker_stop):
            if fn is not None:
                _check_callable(fn)
        self._c = _swco.swco_pool_new(int(workers), ipc, int(queue_key))
        ref = _weakref.ref(self)

        def wrap(fn):
            if fn is None:
                return None

            def call(_raw_pool, *args):
                try:
                    fn(ref(), *args)
                except SystemExit as exc:  # the worker exits (and is restarted)
                    _flush_stdio()
                    _os._exit(_exit_status(exc))
                except BaseException:  # noqa: B902 (reported; the worker goes on)
                    _traceback.print_exc()
                _flush_stdio()
            return call
        # A start callback always runs: it makes the worker's interpreter
        # usable (PyOS_AfterFork_Child) before anything else.
        _swco.swco_pool_on_worker_start(self._c, wrap(on_worker_start) or _noop)
        if on_message is not None:
            _swco.swco_pool_on_message(self._c, wrap(on_message))
        if on_worker_stop is not None:
            _swco.swco_pool_on_worker_stop(self._c, wrap(on_worker_stop))

    def start(self):
        """Run the manager here until the pool stops (blocks; not in a
        coroutine, which raises swco.Error SWCO_ECOSTATE).  sys.stdout and
        sys.stderr are flushed first, as Process.start() does."""
        _flush_stdio()
        _swco.swco_pool_start(self._c)

    def shutdown(self):
        """Ask the manager to stop every worker (from any process)."""
        _swco.swco_pool_shutdown(self._c)

    def reload(self):
        """Ask the manager to restart the workers one by one."""
        _swco.swco_pool_reload(self._c)

    def send(self, worker_id, data):
        """Send one message to worker worker_id (IPC_UNIXSOCK), before or
        after start()."""
        return _swco.swco_pool_send(self._c, worker_id, _as_bytes(data))

    def recv(self, worker_id, size=65536, timeout=FOREVER):
        """Read one reply worker worker_id sent with reply() (IPC_UNIXSOCK)."""
        return _swco.swco_pool_recv(self._c, worker_id, int(size), float(timeout))

    def push(self, data):
        """Put a message on the pool's queue (IPC_MSGQUEUE)."""
        return _swco.swco_pool_push(self._c, _as_bytes(data))

    def reply(self, data):
        """In on_message: answer the message being handled."""
        return _swco.swco_pool_reply(self._c, _as_bytes(data))

    def listen(self, host, port=0, backlog=128):
        """Listen on a TCP address (IPC_SOCKET) before start()."""
        _swco.swco_pool_listen(self._c, host, int(port), int(backlog))

    def listen_unix(self, path, backlog=128):
        """Listen on a unix socket path (IPC_SOCKET) before start()."""
        _swco.swco_pool_listen_unix(self._c, path, int(backlog))

    @property
    def port(self):
        """The TCP port listened on."""
        return _swco.swco_pool_port(self._c)

    def set_max_wait(self, seconds):
        """Kill a worker still running seconds after it was asked to stop."""
        _swco.swco_pool_set_max_wait(self._c, float(seconds))

    @property
    def worker_id(self):
        """The calling worker's id, -1 outside the workers."""
        try:
            return _swco.swco_pool_worker_id(self._c)
        except Error:
            return -1

    def worker_pid(self, worker_id):
        """Pid of worker worker_id, 0 when it is not running."""
        return _swco.swco_pool_worker_pid(self._c, worker_id)

    @property
    def manager_pid(self):
        """Pid of the running manager, 0 when none runs."""
        return _swco.swco_pool_manager_pid(self._c)

    @property
    def is_stopping(self):
        """True in a worker asked to stop (loop on it with IPC_NONE)."""
        return bool(_swco.swco_pool_is_stopping(self._c))



def exec(cmd, timeout=FOREVER):  # noqa: A001 (Swoole's System::exec)
    """Run cmd with /bin/sh -c and return (status, output).

    status is the exit code (128 + the signal number when a signal killed
    it); output is its standard output as str (bytes that are not UTF-8
    become surrogate escapes; stderr is inherited).  Inside a coroutine only
    the coroutine waits; outside one the thread blocks (releasing the GIL).
    timeout > 0 kills the command with SIGKILL after that many seconds and
    raises swco.TimeoutError.
    """
    output, status = _swco.swco_exec_run(cmd, float(timeout))
    return status, output.decode("utf-8", "surrogateescape")


# ------------------------------------------------------------ HTTP (curl)

__all__ += ["HttpResponse", "CurlError", "CurlTimeoutError", "http_request", "curl_get",
            "curl_cleanup", "HttpClient"]

CurlError = _swco.CurlError
CurlTimeoutError = _swco.CurlTimeoutError


class HttpResponse(_collections.namedtuple("HttpResponse", "status headers body url")):
    """The answer to http_request(), a named tuple.

    status: the HTTP status code (int; 404 and 500 are answers, not
    errors).  headers: the final response's header lines as a list of
    (name, value) str pairs, in order and with repeats (Set-Cookie).
    body: bytes, as sent (not decompressed).  url: the effective URL,
    after any redirects followed.
    """

    __slots__ = ()

    def header(self, name, default=None):
        """The first value of header name (any case), default when absent."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def header_values(self, name):
        """Every value of header name (any case), in order."""
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


def http_request(url, method="GET", body=None, headers=None, timeout=30.0,
                 follow_redirects=False, verify=True):
    """Make an HTTP or HTTPS request with libcurl; return an HttpResponse.

    Inside a coroutine only the calling coroutine waits (swco_curl_perform)
    while the others run, so many requests proceed at once; outside one
    the thread blocks (releasing the GIL).  method is any HTTP method
    (upper-cased); body is bytes, a bytes-like object or str (sent as
    UTF-8), sent with POST when method is POST (which sends an empty body
    without one); headers is a dict or an iterable of (name, value) pairs
    (str or bytes; "" sends an empty header).  No "Expect: 100-continue"
    is sent unless given.  timeout is seconds for the whole transfer (None
    or <= 0: no limit).  follow_redirects follows up to 20 redirects, to
    http and https URLs only; verify=False skips the TLS certificate and
    host name checks.

    Raises CurlError (.curl_code, libcurl's message) when the transfer
    fails: a malformed URL (3), a scheme other than http/https (1), a
    refused connection (7), ...; CurlTimeoutError, which is also a
    swco.TimeoutError, when it runs out of time (28); CancelledError when
    the coroutine is cancelled.  Bad argument types raise TypeError, and
    header names, values or methods with bad characters ValueError.
    """
    if isinstance(method, str):
        method = method.upper()
    if timeout is None:
        timeout = FOREVER
    elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds or None, not %s"
                        % type(timeout).__name__)
    status, header_list, data, where = _swco.pyswco_curl_request(
        url, method, body, headers, float(timeout), 1 if follow_redirects else 0,
        1 if verify else 0)
    return HttpResponse(status, header_list, data, where)


def curl_get(url, **kwargs):
    """http_request(url, "GET", **kwargs): return the HttpResponse."""
    return http_request(url, "GET", **kwargs)


def curl_cleanup():
    """Close the calling thread's idle HTTP connections.

    http_request() keeps, per thread, an idle client (and its open
    connection) for each of the last few hosts it talked to, and
    swco_curl_perform keeps libcurl's multi handles; this closes them, for
    instance when a thread is done with HTTP.  Requests still running are
    not affected.  HttpClient objects keep their own connection until
    closed.
    """
    _swco.pyswco_curl_flush()
    _swco.swco_curl_cleanup()


def _text(value):
    return value if isinstance(value, (str, bytes)) else str(value)


class HttpClient:
    """A coroutine HTTP client for one base URL (swco_http_client).

    HttpClient("http://127.0.0.1:8080") keeps, across requests, what the
    C client keeps: options, headers, cookies (those set with
    set_cookie() and, in an in-memory jar, those the server sets) and the
    open connection (keep-alive).  Each request returns its status; the
    response stays on the client until the next one: .status, .body
    (bytes), .headers (list of (name, value) pairs), header(name),
    .url.  Use it in a coroutine, where only the calling coroutine waits;
    outside one it blocks the thread.  One request at a time per client.

    Errors raise swco.Error subclasses with the library's code:
    swco.TimeoutError (-ETIMEDOUT), Error with code -ECONNREFUSED,
    SWCO_EDNS, SWCO_ESSLVERIFY, SWCO_ESSL, -EINVAL...; .curl_code and
    .error_message tell libcurl's view of the last failure.  An HTTP 404 or
    500 is a status, not an error.

    Options (set(name, value) or keyword arguments of the constructor):
    timeout, connect_timeout (seconds), keep_alive, follow_redirects (a
    count), ssl_verify_peer, ssl_verify_host, ssl_cafile, ssl_cert_file,
    ssl_key_file, ssl_key_password, user_agent, accept_encoding.
    """

    __slots__ = ("_c",)

    def __init__(self, base_url=None, **options):
        self._c = None
        c = _swco.swco_http_client_new(base_url)
        if c is None:
            raise ValueError("base_url must be an http:// or https:// URL, not %r" % (base_url,))
        self._c = c
        for name, value in options.items():
            self.set(name, value)

    def close(self):
        """Close the connection and free the client (it cannot be used after)."""
        c, self._c = self._c, None
        if c is not None:
            _swco.swco_http_client_free(c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set(self, name, value):
        """Set an option by name (see the class documentation)."""
        if isinstance(value, bool):
            value = "1" if value else "0"
        _swco.swco_http_client_set(self._c, name, _text(value))

    def set_timeout(self, connect_timeout, timeout):
        """Set the connect and total timeouts in seconds (<= 0: no limit)."""
        _swco.swco_http_client_set_timeout(self._c, float(connect_timeout), float(timeout))

    def set_header(self, name, value):
        """Send header name: value with every request (replacing that name)."""
        _swco.swco_http_client_set_header(self._c, name, _text(value))

    def add_header(self, name, value):
        """Send one more header name: value with every request (repeats kept)."""
        _swco.swco_http_client_add_header(self._c, name, _text(value))

    def clear_headers(self):
        """Forget the headers set so far."""
        _swco.swco_http_client_clear_headers(self._c)

    def set_cookie(self, name, value):
        """Send cookie name=value with every request."""
        _swco.swco_http_client_set_cookie(self._c, name, _text(value))

    def cookie(self, name):
        """The value of cookie name in the client's jar, or None."""
        return _swco.swco_http_client_cookie(self._c, name)

    def clear_cookies(self):
        """Empty the cookie jar (and the cookies set with set_cookie)."""
        _swco.swco_http_client_clear_cookies(self._c)

    def add_field(self, name, value):
        """Add a form field to the next request (urlencoded, or multipart with files)."""
        _swco.swco_http_client_add_form_field(self._c, name, _text(value))

    def add_file(self, name, path, filename=None, content_type=None):
        """Upload the file at path (multipart/form-data) with the next request."""
        _swco.swco_http_client_add_file(self._c, name, _os.fspath(path), filename, content_type)

    def add_data(self, name, data, filename=None, content_type=None):
        """Upload bytes as a file part with the next request."""
        _swco.swco_http_client_add_data(self._c, name, data, filename, content_type)

    def set_body(self, data, content_type=None):
        """Send data (bytes or str) as the raw body of the next request."""
        _swco.swco_http_client_set_body(self._c, data, content_type)

    def request(self, method, path=""):
        """Make a request with any method; return the status."""
        return _swco.swco_http_client_request(self._c, method.upper(), path)

    def get(self, path=""):
        """GET path; return the status."""
        return _swco.swco_http_client_get(self._c, path)

    def post(self, path="", data=None):
        """POST path with data (bytes or str; None: fields/files/body set before)."""
        return _swco.swco_http_client_post(self._c, path, data)

    def put(self, path="", data=None):
        """PUT path with data, as post()."""
        return _swco.swco_http_client_put(self._c, path, data)

    def delete(self, path=""):
        """DELETE path; return the status."""
        return _swco.swco_http_client_delete(self._c, path)

    def download(self, path, file):
        """GET path into file (created or truncated); return the status."""
        return _swco.swco_http_client_download(self._c, path, _os.fspath(file))

    @property
    def status(self):
        """The last response's status (0 when the last request failed)."""
        return _swco.swco_http_client_status(self._c)

    @property
    def body(self):
        """The last response's body as bytes."""
        return _swco.swco_http_client_body(self._c)

    @property
    def headers(self):
        """The last response's header lines: (name, value) pairs, in order."""
        c = self._c
        return [(_swco.swco_http_client_header_name(c, i), _swco.swco_http_client_header_value(c, i))
                for i in range(_swco.swco_http_client_header_count(c))]

    def header(self, name, default=None, index=0):
        """Header name's value (any case; index picks among repeats), or default."""
        value = _swco.swco_http_client_header(self._c, name, index)
        return default if value is None else value

    @property
    def url(self):
        """The URL the last response came from (after redirects)."""
        return _swco.swco_http_client_effective_url(self._c)

    @property
    def curl_code(self):
        """libcurl's CURLcode for the last request (0: it got a response)."""
        return _swco.swco_http_client_curl_code(self._c)

    @property
    def error_message(self):
        """libcurl's message for the last failure ("" after a response)."""
        return _swco.swco_http_client_error_message(self._c)


def async_call(fn, *args, timeout=FOREVER, **kwargs):
    """Run fn(*args, **kwargs) on libswco's AIO thread pool; return its result.

    The calling coroutine waits while the other coroutines run; the pool
    thread takes the GIL to run fn, so it helps with calls that release the
    GIL (blocking I/O, C extensions), not with pure Python computation.  An
    exception raised by fn is re-raised here.  timeout > 0 raises
    swco.TimeoutError after that many seconds (fn runs on to its end in the
    pool thread; its result is dropped).  Outside a coroutine fn runs in the
    calling thread.
    """
    _check_callable(fn)
    box = []

    def job():  # on a pool thread, holding the GIL meanwhile
        try:
            box.append((True, fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: B902 (re-raised in the caller)
            box.append((False, exc))
    _swco.swco_aio_run(job, float(timeout))
    ok, value = box[0]
    if ok:
        return value
    raise value


class Socket:
    """A coroutine socket: calls that would block suspend the coroutine.

    Socket(family=AF_INET, type=SOCK_STREAM) with the socket module's
    constants (AF_INET, AF_INET6, AF_UNIX; SOCK_STREAM, SOCK_DGRAM).
    Timeouts are seconds: < 0 never, 0 (the default) the socket's own
    timeout (set_timeout()), else the process-wide defaults
    (set_default_timeout(): connect 1 s, read and write never).  Waiting
    calls need a coroutine; one coroutine reads and one writes at a time (a
    second raises swco.Error EBUSY).  Data arguments are bytes-like
    objects (bytes, bytearray, memoryview); anything else raises TypeError.
    recv_packet() returns one whole packet framed by set_package_eof() or
    set_package_length(); after enable_ssl() the same calls go over TLS.
    Usable as a context manager (closed on exit).
    """

    __slots__ = ("_c", "_ctx")

    def __init__(self, family=2, type=1, proto=0, _handle=None):  # noqa: A002
        self._c = None
        self._ctx = None  # the SSLContext in use, kept alive with the socket
        self._c = _handle if _handle is not None else _swco.swco_socket_new(family, type, proto)

    def fileno(self):
        """The file descriptor, -1 once closed."""
        try:
            return _swco.swco_socket_fd(self._c)
        except Error:
            return -1

    def connect(self, host, port=0, timeout=0):
        """Connect to host (name or address; a path for AF_UNIX) and port.

        On a TLS socket (enable_ssl()) the handshake is part of the call:
        swco.Error SWCO_ESSL or SWCO_ESSLVERIFY when it fails.
        """
        _swco.swco_socket_connect(self._c, host, int(port), float(timeout))

    def bind(self, host, port=0):
        """Bind to a local address and port (0: any free port)."""
        _swco.swco_socket_bind(self._c, host, int(port))

    def listen(self, backlog=128):
        """Listen for connections."""
        _swco.swco_socket_listen(self._c, int(backlog))

    def accept(self, timeout=0):
        """Wait for a connection; return it as a new Socket.

        It inherits this socket's timeouts, framing and TLS context (a TLS
        connection handshakes on its first read or write, or in
        ssl_handshake()).
        """
        conn = Socket(_handle=_swco.swco_socket_accept(self._c, float(timeout)))
        conn._ctx = self._ctx
        return conn

    def send(self, data, timeout=0):
        """Send some of data (bytes); return how many bytes were sent."""
        return _swco.swco_socket_send(self._c, _as_bytes(data), float(timeout))

    def sendall(self, data, timeout=0):
        """Send all of data; the timeout covers the whole call."""
        _swco.swco_socket_send_all(self._c, _as_bytes(data), float(timeout))

    def recv(self, size=65536, timeout=0):
        """Receive up to size bytes; b"" when the peer closed."""
        return _swco.swco_socket_recv(self._c, int(size), float(timeout))

    def recv_exactly(self, size, timeout=0):
        """Receive size bytes (fewer only when the peer closed first)."""
        return _swco.swco_socket_recv_all(self._c, int(size), float(timeout))

    def peek(self, size=65536):
        """Return up to size pending bytes without consuming them.

        Never waits: swco.Error (EAGAIN) when nothing is pending, b"" at
        end of stream.
        """
        return _swco.swco_socket_peek(self._c, int(size))

    def sendto(self, data, host, port=0, timeout=0):
        """Send data as one datagram to host (name or address; a path for
        AF_UNIX) and port; return how many bytes were sent."""
        return _swco.swco_socket_sendto(self._c, host, int(port), _as_bytes(data),
                                        float(timeout))

    def recvfrom(self, size=65536, timeout=0):
        """Receive one datagram (cut to size bytes); return (data, (host,
        port)) with the sender's numeric address (its path for AF_UNIX)."""
        data, host, port = _swco.swco_socket_recvfrom(self._c, int(size), float(timeout))
        return data, (host, port)

    def sendfile(self, path, offset=0, length=0, timeout=0):
        """Send length bytes (0: up to its end) of the file at path from
        offset, with sendfile(2) (through TLS in chunks on a TLS socket);
        return how many bytes were sent.  The timeout covers the whole call.
        """
        return _swco.swco_socket_sendfile(self._c, _os.fspath(path), int(offset), int(length),
                                          float(timeout))

    def getsockname(self):
        """The local (address, port)."""
        return _swco.swco_socket_getsockname(self._c)

    def getpeername(self):
        """The peer's (address, port)."""
        return _swco.swco_socket_getpeername(self._c)

    def set_timeout(self, seconds, kinds=_swco.SWCO_TIMEOUT_ALL):
        """Set this socket's timeouts (kinds: swco.TIMEOUT_* bits, all by
        default); seconds < 0 never, 0 leaves them as they are."""
        _swco.swco_socket_set_timeout(self._c, int(kinds), float(seconds))

    def get_timeout(self, kind):
        """The timeout in force for one kind (swco.TIMEOUT_CONNECT, _READ or
        _WRITE): the socket's own, else the default; -1.0 means never."""
        return _timeout_result(_swco.swco_socket_get_timeout(self._c, int(kind)))

    def set_nodelay(self, on=True):
        """Turn Nagle's algorithm off (True) or on."""
        _swco.swco_socket_set_nodelay(self._c, 1 if on else 0)

    def set_keepalive(self, on=True, idle=0, interval=0, count=0):
        """TCP keepalive: idle and interval seconds, count probes (0 keeps
        the system's value)."""
        _swco.swco_socket_set_keepalive(self._c, 1 if on else 0, int(idle), int(interval),
                                        int(count))

    def set_reuseaddr(self, on=True):
        """Set SO_REUSEADDR."""
        _swco.swco_socket_set_reuseaddr(self._c, 1 if on else 0)

    def set_reuseport(self, on=True):
        """Set SO_REUSEPORT."""
        _swco.swco_socket_set_reuseport(self._c, 1 if on else 0)

    def set_buffer_size(self, recv=0, send=0):
        """Set the kernel's receive and send buffer sizes (0 leaves one)."""
        _swco.swco_socket_set_buffer_size(self._c, int(recv), int(send))

    def set_package_eof(self, eof):
        """Frame packets by a delimiter of 1 to 8 bytes that ends each one
        (recv_packet() includes it); None or b"" turns framing off."""
        _swco.swco_socket_set_package_eof(self._c, None if eof is None else _as_bytes(eof))

    def set_package_length(self, length_size, big_endian=True, length_offset=0,
                           body_offset=None):
        """Frame packets by a length header: a length_size (1, 2 or 4) byte
        field at length_offset counting the bytes after body_offset (None:
        just after the field), so a packet is body_offset + length bytes."""
        if body_offset is None:
            body_offset = int(length_offset) + int(length_size)
        _swco.swco_socket_set_package_length(self._c, int(length_size), 1 if big_endian else 0,
                                             int(length_offset), int(body_offset))

    def set_package_max_length(self, size):
        """The largest packet recv_packet() accepts (default 2 MiB)."""
        _swco.swco_socket_set_package_max_length(self._c, int(size))

    def recv_packet(self, timeout=0):
        """Receive exactly one framed packet (bytes); b"" when the peer
        closed (a partial packet is dropped).  Without framing, whatever is
        available.  A packet over set_package_max_length() raises
        swco.Error SWCO_EPKGTOOBIG and a malformed header EPROTO; the
        socket is then closed."""
        return _swco.swco_socket_recv_packet(self._c, float(timeout))

    def enable_ssl(self, ctx, server_hostname=None):
        """Run TLS over this stream socket with ctx, an SSLContext.

        Before connect() on a client (server_hostname, when given, is sent
        as SNI and checked against the certificate instead of the connect
        host), or before accept() on a listening socket.  The socket keeps
        ctx alive.  Raises TypeError for another ctx, swco.Error EINVAL
        (not a stream socket) or SWCO_ECOSTATE (TLS already on).
        """
        if not isinstance(ctx, SSLContext):
            raise TypeError("enable_ssl() needs an swco.SSLContext, not %s" % type(ctx).__name__)
        _swco.swco_socket_enable_ssl(self._c, ctx._c, server_hostname)
        self._ctx = ctx

    def ssl_handshake(self, timeout=0):
        """Complete the TLS handshake now (accepted sockets otherwise do it
        on first use); nothing when done already.  swco.Error SWCO_ESSL,
        SWCO_ESSLVERIFY, or EINVAL without TLS."""
        _swco.swco_ssl_handshake(self._c, float(timeout))

    @property
    def ssl_alpn(self):
        """The ALPN protocol selected (str), None without one."""
        return _swco.swco_ssl_get_alpn(self._c)

    @property
    def ssl_version(self):
        """The negotiated TLS version ("TLSv1.3"), None before the handshake."""
        return _swco.swco_ssl_get_version(self._c)

    @property
    def ssl_server_name(self):
        """The SNI host name: the one the client sent (server side) or
        sends (client side); None without one."""
        return _swco.swco_ssl_get_server_name(self._c)

    @property
    def ssl_session_reused(self):
        """True when the handshake resumed an earlier session; swco.Error
        EINVAL without a TLS connection."""
        return bool(_swco.swco_ssl_session_reused(self._c))

    @property
    def ssl_peer_subject(self):
        """The peer certificate's subject on one line ("/CN=..."), None
        when the peer sent none; swco.Error EINVAL without a TLS
        connection."""
        try:
            return _swco.swco_ssl_get_peer_subject(self._c)
        except Error as exc:
            if exc.code == -_errno.ENOENT:
                return None
            raise

    def shutdown(self, how=1):
        """Shut down reading (0), writing (1) or both (2)."""
        _swco.swco_socket_shutdown(self._c, int(how))

    def cancel(self):
        """Wake the coroutines waiting on this socket: their calls raise
        CancelledError (catch it to go on: the coroutines are not
        cancelled); the socket stays open."""
        _swco.swco_socket_cancel(self._c)

    def close(self):
        """Close the socket; coroutines waiting on it wake with
        CancelledError and later calls raise swco.ClosedError.  Closing
        again does nothing."""
        if self._c is not None and self.fileno() >= 0:
            _swco.swco_socket_close(self._c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False



TIMEOUT_CONNECT = _swco.SWCO_TIMEOUT_CONNECT
TIMEOUT_READ = _swco.SWCO_TIMEOUT_READ
TIMEOUT_WRITE = _swco.SWCO_TIMEOUT_WRITE
TIMEOUT_RW = _swco.SWCO_TIMEOUT_RW
TIMEOUT_ALL = _swco.SWCO_TIMEOUT_ALL


def set_default_timeout(seconds, kinds=TIMEOUT_ALL):
    """Set the process-wide socket timeouts of the given kinds (TIMEOUT_*
    bits), used by sockets without their own: seconds < 0 never, 0 leaves
    them.  libswco starts with connect 1 s, read and write never."""
    _swco.swco_socket_set_default_timeout(int(kinds), float(seconds))


def get_default_timeout(kind):
    """The process-wide timeout of one kind (TIMEOUT_CONNECT, TIMEOUT_READ
    or TIMEOUT_WRITE); -1.0 means never."""
    return _timeout_result(_swco.swco_socket_get_default_timeout(int(kind)))


CERT_NONE = 0
CERT_REQUIRED = 2


class SSLContext:
    """TLS settings shared by many sockets: SSLContext(server=False).

    Configure it, then give it to Socket.enable_ssl().  Defaults: TLS 1.2
    and 1.3, no ALPN, session reuse on clients.  Like Python's
    ssl.create_default_context(), a client context verifies the server:
    its certificate chain against the system's CAs (or those of
    load_verify_locations()) and its host name (enable_ssl()'s
    server_hostname, else the connect host); a failed check raises
    swco.Error SWCO_ESSLVERIFY in connect().  To opt out, set
    check_hostname = False (the chain only) and verify_mode = CERT_NONE
    (nothing).  A server context asks for no client certificate unless
    verify_mode = CERT_REQUIRED.  Changes apply to later handshakes.
    Failures raise swco.Error: -ENOENT (or another -errno) for an unreadable
    file, SWCO_ESSL for contents OpenSSL refuses, EINVAL for bad values.
    """

    TLS_ANY = _swco.SWCO_TLS_ANY
    TLS1_2 = _swco.SWCO_TLS1_2
    TLS1_3 = _swco.SWCO_TLS1_3
    __slots__ = ("_c", "_server", "__weakref__")

    def __init__(self, server=False):
        self._c = None
        self._server = bool(server)
        self._c = _swco.swco_ssl_ctx_new(1 if server else 0)

    @property
    def server(self):
        """True for a server context."""
        return self._server

    def load_cert_chain(self, certfile, keyfile=None):
        """Load a PEM certificate chain and its private key (keyfile None:
        the key is in certfile); SWCO_ESSL when the key does not match."""
        _swco.swco_ssl_ctx_set_cert_file(self._c, _os.fspath(certfile),
                                         None if keyfile is None else _os.fspath(keyfile))

    def load_verify_locations(self, cafile=None, capath=None):
        """Trust the CAs in a PEM file and/or a hashed directory (one at
        least) instead of the system's store."""
        _swco.swco_ssl_ctx_set_ca(self._c, None if cafile is None else _os.fspath(cafile),
                                  None if capath is None else _os.fspath(capath))

    def set_verify_peer(self, on=True):
        """Require and verify the peer's certificate: on a client its chain
        and host name (a failed check raises swco.Error SWCO_ESSLVERIFY in
        connect()), on a server a client certificate.  Clients verify by
        default; set_verify_peer(False) is the opt-out (verify_mode =
        CERT_NONE without the check_hostname rule)."""
        _swco.swco_ssl_ctx_set_verify_peer(self._c, 1 if on else 0)

    @property
    def verify_mode(self):
        """CERT_REQUIRED when the peer's certificate is verified (clients:
        the default), CERT_NONE when not.  Setting CERT_NONE while
        check_hostname is on raises ValueError, as in Python's ssl."""
        return CERT_REQUIRED if _swco.swco_ssl_ctx_get_verify(self._c) & 1 else CERT_NONE

    @verify_mode.setter
    def verify_mode(self, mode):
        if mode == CERT_NONE:
            if self.check_hostname:
                raise ValueError("Cannot set verify_mode to CERT_NONE when "
                                 "check_hostname is enabled.")
            _swco.swco_ssl_ctx_set_verify_peer(self._c, 0)
        elif mode == CERT_REQUIRED:
            _swco.swco_ssl_ctx_set_verify_peer(self._c, 1)
        else:
            raise ValueError("verify_mode must be CERT_NONE or CERT_REQUIRED")

    @property
    def check_hostname(self):
        """Whether a client checks the server's host name (on by default;
        always False on a server).  Setting it True also sets verify_mode
        to CERT_REQUIRED; False leaves the chain check alone."""
        return bool(_swco.swco_ssl_ctx_get_verify(self._c) & 2)

    @check_hostname.setter
    def check_hostname(self, on):
        if self._server:
            if on:
                raise ValueError("check_hostname is for client contexts")
            return
        _swco.swco_ssl_ctx_set_check_hostname(self._c, 1 if on else 0)
        if on:
            _swco.swco_ssl_ctx_set_verify_peer(self._c, 1)

    def set_alpn_protocols(self, protocols):
        """The ALPN protocols, most preferred first: a list of str (or one
        comma-separated str); a client offers them, a server picks the
        first of its own the client offers.  None or [] clears them."""
        if protocols is None:
            protocols = ""
        elif not isinstance(protocols, str):
            protocols = list(protocols)
            if not all(isinstance(p, str) and p and "," not in p for p in protocols):
                _swco.pyswco_raise(-_errno.EINVAL)
            protocols = ",".join(protocols)
        _swco.swco_ssl_ctx_set_alpn(self._c, protocols)

    def set_protocols(self, min_version=TLS_ANY, max_version=TLS_ANY):
        """Limit the TLS versions to min_version..max_version
        (SSLContext.TLS1_2, TLS1_3; TLS_ANY leaves that bound open)."""
        _swco.swco_ssl_ctx_set_protocols(self._c, int(min_version), int(max_version))

    def set_ciphers(self, ciphers):
        """Set the TLS 1.2 cipher list (OpenSSL syntax)."""
        _swco.swco_ssl_ctx_set_ciphers(self._c, ciphers)

    def set_session_reuse(self, on=True):
        """Clients: remember the last session per host and port and offer
        it on the next connection (on by default)."""
        _swco.swco_ssl_ctx_set_session_reuse(self._c, 1 if on else 0)



__all__ += ["SSLContext", "CERT_NONE", "CERT_REQUIRED", "set_default_timeout", "get_default_timeout", "TIMEOUT_CONNECT",
            "TIMEOUT_READ", "TIMEOUT_WRITE", "TIMEOUT_RW", "TIMEOUT_ALL"]


def _shutdown():
    """At interpreter exit, cancel coroutines left by go() outside run() and
    let them unwind (their finally blocks and defers run)."""
    if _swco.swco_coroutine_id() != 0:
        return
    for _ in range(3):
        cids = _coroutine_list()
        if not cids:
            return
        for cid in cids:
            try:
                _swco.swco_coroutine_cancel(cid)
            except Error:
                pass
        try:
            _swco.pyswco_wait(_stop_loop)
        except Error:
            pass


_atexit.register(_shutdown)


# ------------------------------------------------------------------ select

_NO_DEFAULT = object()


def select(pop=(), push=(), timeout=FOREVER, default=_NO_DEFAULT):
    """Wait on several channel operations and complete exactly one (Go's select).

    pop is an iterable of Channel to pop from, push an iterable of
    (Channel, value) pairs to push; a channel may appear in several cases.
    Returns (channel, value) for the case that completed: the popped value
    for a pop case, None for a push case (its value is in the channel, or
    taken by a popper: on an unbuffered channel a push case completes only
    when a popper takes the value).  When several cases are ready, each is
    chosen with the same probability.

    Waits up to timeout seconds (negative or zero: for ever, as Channel
    does) and raises swco.TimeoutError then.  With default given it never
    waits: it returns default when no case is ready (Go's "default:").

    A pop case on a closed, drained channel, or a push case on a closed
    channel, raises swco.ClosedError whose .channel is that channel.  Also
    raises CancelledError, swco.Error (SWCO_ENOTCO when it would have to
    wait outside a coroutine; -EPERM for another thread's channel),
    ValueError without any case, TypeError for a bad case.  No case but the
    one returned has any effect, and none is left waiting.

        ch, value = swco.select([jobs, control], push=[(results, r)], timeout=5)
    """
    if default is _NO_DEFAULT:
        return _swco.pyswco_select(pop, push, timeout, 1)
    done = _swco.pyswco_select(pop, push, 0.0, 0)
    return default if done is None else done


__all__ += ["select"]


# ------------------------------------------------------------------ servers

import pickle as _pickle  # noqa: E402 (task and message payloads)

SERVER_BASE = _swco.SWCO_SERVER_BASE
SERVER_PROCESS = _swco.SWCO_SERVER_PROCESS
SERVER_THREAD = _swco.SWCO_SERVER_THREAD
SOCK_TCP = _swco.SWCO_SOCK_TCP
SOCK_UDP = _swco.SWCO_SOCK_UDP
SOCK_TCP6 = _swco.SWCO_SOCK_TCP6
SOCK_UDP6 = _swco.SWCO_SOCK_UDP6
SOCK_UNIX_STREAM = _swco.SWCO_SOCK_UNIX_STREAM
SOCK_UNIX_DGRAM = _swco.SWCO_SOCK_UNIX_DGRAM
SOCK_SSL = _swco.SWCO_SOCK_SSL
DISPATCH_ROUND_ROBIN = _swco.SWCO_DISPATCH_ROUND_ROBIN
DISPATCH_FD_MOD = _swco.SWCO_DISPATCH_FD_MOD
DISPATCH_IDLE_WORKER = _swco.SWCO_DISPATCH_IDLE_WORKER
DISPATCH_IP_MOD = _swco.SWCO_DISPATCH_IP_MOD
DISPATCH_UID_MOD = _swco.SWCO_DISPATCH_UID_MOD


class PacketInfo(_collections.namedtuple("PacketInfo", "address port listener")):
    """Where a UDP (or Unix datagram) packet came from: the sender's
    address (a path for Unix datagrams), its port (0 for Unix) and the
    index of the listener that got it (0: the server's own address).
    Answer with server.sendto(info.address, info.port, data,
    info.listener)."""

    __slots__ = ()


def _option_text(name, value):
    """An option value as the C library reads it: bool as 1/0, numbers in
    decimal, bytes as they are (package_eof), str as given."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError("option %s: a bool, number, str or bytes, not %s"
                    % (name, type(value).__name__))


def _option_pairs(options, kwargs):
    pairs = []
    for source in (options or {}, kwargs):
        items = source.items() if hasattr(source, "items") else source
        for name, value in items:
            pairs.append((str(name), _option_text(name, value)))
    return pairs


def _event_key(event):
    return str(event).lower().replace("_", "")


# event name -> (C setter suffix, how the Python callable is called)
_SERVER_EVENTS = {
    "start": ("start", "server"),
    "shutdown": ("shutdown", "server"),
    "managerstart": ("manager_start", "server"),
    "managerstop": ("manager_stop", "server"),
    "workerstart": ("worker_start", "plain"),
    "workerstop": ("worker_stop", "plain"),
    "workerexit": ("worker_exit", "plain"),
    "workererror": ("worker_error", "plain"),
    "connect": ("connect", "plain"),
    "receive": ("receive", "plain"),
    "packet": ("packet", "packet"),
    "close": ("close", "plain"),
    "task": ("task", "task"),
    "finish": ("finish", "finish"),
    "pipemessage": ("pipe_message", "message"),
    "bufferfull": ("buffer_full", "plain"),
    "bufferempty": ("buffer_empty", "plain"),
}
_LISTENER_EVENTS = ("connect", "receive", "packet", "close")
# lifecycle callbacks after which the process's Python output is flushed
# (a forked worker leaves without Python's own exit)
_FLUSHED_EVENTS = ("start", "shutdown", "managerstart", "managerstop", "workerstart",
                   "workerstop", "workererror")

_current_task = _contextvars.ContextVar("swco_server_task", default=None)


class Listener:
    """One address a Server listens on: Server.add_listener() returns it
    (index 1, 2, ...); the server's own address is server.listeners[0].

    set() gives this listener its own framing, TCP, heartbeat, PROXY and
    TLS options (the server's set() gives the defaults); on() its own
    connect, receive, packet and close callbacks (replacing the server's
    for this listener's connections)."""

    __slots__ = ("_server", "index")

    def __init__(self, server, index):
        self._server = server
        self.index = index

    def set(self, options=None, **kwargs):
        """Set options by Swoole's names, from a dict and/or keywords.
        Raises swco.Error (SWCO_EOPTION: unknown or not a listener option,
        SWCO_EOPTVALUE: bad value) naming the option, as Server.set()."""
        srv = self._server
        for i, (name, value) in enumerate(_option_pairs(options, kwargs)):
            try:
                _swco.swco_server_listener_set(srv._c, self.index, name, value)
            except Error as exc:
                exc.args = ("%s: %s" % (name, exc.args[0] if exc.args else ""),)
                exc.option = name
                exc.index = i
                raise

    def on(self, event, fn):
        """Set this listener's connect, receive, packet or close callback
        (fn None: back to the server's)."""
        key = _event_key(event)
        srv = self._server
        if key == "request" and hasattr(srv, "_wrap_request"):
            _swco.swco_http_listener_on_request(srv._c, self.index, srv._wrap_request(fn))
            return
        if key not in _LISTENER_EVENTS:
            raise ValueError("a listener has connect, receive, packet and close callbacks, "
                             "not %r" % (event,))
        setter = getattr(_swco, "swco_server_listener_on_" + _SERVER_EVENTS[key][0])
        setter(srv._c, self.index, srv._wrap(key, fn))

    @property
    def port(self):
        """The port this listener is bound to (0 for Unix sockets)."""
        return _swco.swco_server_listener_port(self._server._c, self.index)

    def __repr__(self):
        return "<swco.Listener %d port %d>" % (self.index, self.port)


class Server:
    """A TCP, UDP or Unix-socket server run by worker processes (Swoole's
    Server).

        srv = swco.Server("127.0.0.1", 9501)          # SERVER_BASE, SOCK_TCP
        srv.set(worker_num=2)
        srv.on("receive", lambda srv, fd, reactor_id, data: srv.send(fd, data))
        srv.start()

    Server(host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP) binds and
    listens at once (port 0 picks a free one: see .port); sock_type may
    have SOCK_SSL or-ed in.  SERVER_BASE: each worker process accepts and
    owns its connections (the calling process is the only worker when
    worker_num is 1 and there are no task workers); SERVER_PROCESS: the
    master owns the connections and feeds the worker processes.
    SERVER_THREAD is refused (swco.Error -ENOTSUP): threads of one Python
    interpreter would take turns under its global lock.

    set() takes Swoole's option names (worker_num, task_worker_num,
    dispatch_mode, open_eof_split, package_eof, heartbeat_check_interval,
    enable_coroutine, ...); on(event, fn) sets a callback.  start() runs
    the server until it shuts down (SIGTERM, shutdown()).

    Callbacks, called in the worker (task worker, manager, master) they
    concern, each in a new coroutine when enable_coroutine is on (the
    default; they may then sleep, use channels, sockets, taskwait):
      start(server), shutdown(server)                  master
      manager_start(server), manager_stop(server)      manager
      worker_start(server, worker_id), worker_stop(...), worker_exit(...)
      worker_error(server, worker_id, pid, exit_code, signo)  manager
      connect(server, fd, reactor_id), close(server, fd, reactor_id)
      receive(server, fd, reactor_id, data: bytes)
      packet(server, data: bytes, info: PacketInfo)    UDP / Unix datagram
      task(server, task_id, src_worker_id, data)       task worker; what it
                                                       returns (not None)
                                                       is the task's result
      finish(server, task_id, result)                  worker that sent it
      pipe_message(server, src_worker_id, message)
      buffer_full(server, fd, reactor_id), buffer_empty(...)
    An exception a callback raises is reported (Server.excepthook) and the
    worker goes on; SystemExit shuts the server down.  Tasks, results and
    messages are any picklable object.  fd is a connection id (a large
    int), unique while the server runs.  Calls that fail raise swco.Error
    with the library's code (SWCO_ENOCONN for a closed connection, ...).
    """

    BASE = SERVER_BASE
    PROCESS = SERVER_PROCESS
    THREAD = SERVER_THREAD

    def __init__(self, host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP):
        self._c = None
        self._c = _swco.swco_server_new(str(host), int(port), int(mode), int(sock_type))
        self.mode = int(mode)
        self.listeners = [Listener(self, 0)]
        self._ref = _weakref.ref(self)
        # a forked worker's buffered output leaves with it
        _swco.swco_server_on_worker_stop(self._c, self._wrap("workerstop", None))

    # ---------------------------------------------------------- setting up

    def set(self, options=None, **kwargs):
        """Set options from a dict and/or keywords, by Swoole's names.

        Values: bool (1/0), int, float (seconds), str; bytes for
        package_eof.  Applied in order; the first that fails raises
        swco.Error whose .code is SWCO_EOPTION (unknown name),
        SWCO_EOPTVALUE (bad value) or -EBUSY (cannot change while
        running), .option its name and .index its position."""
        pairs = _option_pairs(options, kwargs)
        if pairs:
            _swco.swco_server_set_list(self._c, pairs)

    def get_option(self, name):
        """An option's current value as text."""
        return _swco.swco_server_get_option(self._c, str(name))

    def on(self, event, fn):
        """Set the callback for event ("receive", "worker_start", ...; also
        Swoole's spelling "WorkerStart"); fn None clears it."""
        key = _event_key(event)
        if key == "dispatch":
            exc = Error("swco.Server: a Python dispatch function would run in the master's "
                        "reactor threads, where Python cannot run; use dispatch_mode")
            exc.code, exc.name = -_errno.ENOTSUP, "ENOTSUP"
            raise exc
        if key not in _SERVER_EVENTS:
            raise ValueError("unknown server event %r" % (event,))
        setter = getattr(_swco, "swco_server_on_" + _SERVER_EVENTS[key][0])
        setter(self._c, self._wrap(key, fn))

    def add_listener(self, host, port=0, sock_type=SOCK_TCP):
        """Listen on one more address (before start()); returns its
        Listener, which has its own set() and on()."""
        index = _swco.swco_server_add_listener(self._c, str(host), int(port), int(sock_type))
        listener = Listener(self, index)
        self.listeners.append(listener)
        return listener

    listen = add_listener  # Swoole's name

    @staticmethod
    def excepthook(event, exc):
        """Report an exception a callback raised (event: "receive", ...).
        The default prints the traceback to stderr; assign your own
        function(event, exc) to Server.excepthook (or an instance's)."""
        print("swco.Server: exception in the %s callback (pid %d):" % (event, _os.getpid()),
              file=_sys.stderr)
        _traceback.print_exception(type(exc), exc, exc.__traceback__, file=_sys.stderr)
        _flush_stdio()

    def _wrap(self, key, fn):
        """The raw callback for a Python one: the Server object first,
        payloads decoded, exceptions reported."""
        if fn is None and key != "workerstop":
            return None
        if fn is not None:
            _check_callable(fn)
        ref = self._ref
        kind = _SERVER_EVENTS[key][1]
        flush = key in _FLUSHED_EVENTS

        def call(_raw_srv, *args):
            srv = ref()
            try:
                if srv is None or fn is None:
                    return
                if kind == "packet":
                    data, address, port, listener = args
                    fn(srv, data, PacketInfo(address, port, listener))
                elif kind == "task":
                    task_id, src, data = args
                    token = _current_task.set(task_id)
                    try:
                        result = fn(srv, task_id, src, _pickle.loads(data))
                    finally:
                        _current_task.reset(token)
                    if result is not None:
                        srv.finish(result, task_id)
                elif kind == "finish":
                    task_id, data = args
                    fn(srv, task_id, _pickle.loads(data))
                elif kind == "message":
                    src, data = args
                    fn(srv, src, _pickle.loads(data))
                elif kind == "server":
                    fn(srv)
                else:
                    fn(srv, *args)
            except CancelledError:
                pass  # the server stopping its coroutines
            except SystemExit:
                if srv is not None:
                    srv.shutdown()
            except BaseException as exc:  # noqa: B902 (reported; the worker goes on)
                try:
                    hook = srv.excepthook if srv is not None else Server.excepthook
                    hook(_SERVER_EVENTS[key][0], exc)
                except BaseException:  # a broken hook must not stop the worker
                    _traceback.print_exc()
            finally:
                if flush:
                    _flush_stdio()
        return call

    # ------------------------------------------------------------- running

    def start(self):
        """Run the server until it shuts down; returns in the process that
        called it (not in a coroutine: swco.Error SWCO_ECOSTATE).  Flushes
        sys.stdout and sys.stderr first, as Process.start() does.  Like
        ProcessPool.start(), it keeps the GIL while the server runs: other
        Python threads of this process wait until it returns (talk to the
        server from other processes)."""
        _flush_stdio()
        _swco.swco_server_start(self._c)

    def shutdown(self):
        """Stop the whole server gracefully (from any of its processes)."""
        _swco.swco_server_shutdown(self._c)

    def reload(self, only_task_workers=False):
        """Restart the workers (or only the task workers) one at a time."""
        _swco.swco_server_reload(self._c, 1 if only_task_workers else 0)

    def stop(self, worker_id=-1):
        """Stop one worker (-1: this one); the manager starts it again."""
        _swco.swco_server_stop(self._c, int(worker_id))

    def hot_restart(self, argv):
        """Run argv (argv[0] a path) with the listening sockets handed over
        as systemd socket activation does; this server then shuts down."""
        _swco.swco_server_hot_restart(self._c, [str(a) for a in argv])

    # ------------------------------------------------------------ talking

    def send(self, fd, data):
        """Queue data (bytes, or str as UTF-8) on connection fd; returns its
        length.  swco.Error: SWCO_ENOCONN (closed), SWCO_ENOTLOCAL (BASE:
        another worker's), -ENOBUFS (output buffer full, send_yield off)."""
        return _swco.swco_server_send(self._c, int(fd), data)

    def sendwait(self, fd, data):
        """Send and wait (in a coroutine) until every byte reached the
        socket; returns the length."""
        return _swco.swco_server_sendwait(self._c, int(fd), data)

    def sendfile(self, fd, path, offset=0, length=0):
        """Send part of a file (length 0: to its end); returns the bytes
        queued."""
        return _swco.swco_server_sendfile(self._c, int(fd), _os.fsdecode(path), int(offset),
                                          int(length))

    def sendto(self, address, port, data, listener=-1):
        """Send a datagram from a UDP or Unix datagram listener (-1: the
        first of the address's family); returns the length."""
        return _swco.swco_server_sendto(self._c, str(address), int(port), data, int(listener))

    def close(self, fd, reset=False):
        """Close connection fd (reset: drop unsent output, send RST)."""
        _swco.swco_server_close(self._c, int(fd), 1 if reset else 0)

    def exists(self, fd):
        """True when fd names an open connection."""
        return bool(_swco.swco_server_exists(self._c, int(fd)))

    _INFO_FIELDS = ("listener", "sock_type", "reactor_id", "worker_id", "addr", "port",
                    "server_port", "connect_time", "last_recv_time", "last_send_time", "uid",
                    "recv_bytes", "send_bytes", "send_queued", "paused", "ssl")

    def get_client_info(self, fd):
        """A dict describing connection fd: listener, sock_type, reactor_id,
        worker_id, addr, port, server_port, connect_time, last_recv_time,
        last_send_time (wall clock seconds), uid, recv_bytes, send_bytes,
        send_queued, paused, ssl.  swco.Error SWCO_ENOCONN when closed."""
        info = _raw.swco_server_client_info_t()
        _swco.swco_server_get_client_info(self._c, int(fd), info)
        d = {name: getattr(info, name) for name in self._INFO_FIELDS}
        d["paused"] = bool(d["paused"])
        d["ssl"] = bool(d["ssl"])
        return d

    def bind(self, fd, uid):
        """Attach uid (> 0) to connection fd (dispatch_mode UID_MOD)."""
        _swco.swco_server_bind(self._c, int(fd), int(uid))

    def connections(self):
        """Iterate over the open connections' fds, in increasing order
        (BASE mode: this worker's; PROCESS: the whole server's)."""
        start = 0
        while True:
            page = _swco.swco_server_connections(self._c, start, 256)
            if not page:
                return
            yield from page
            start = page[-1]

    def pause(self, fd):
        """Stop reading from connection fd until resume(fd)."""
        _swco.swco_server_pause(self._c, int(fd))

    def resume(self, fd):
        """Read from a paused connection again."""
        _swco.swco_server_resume(self._c, int(fd))

    def heartbeat(self, close=True):
        """The connections idle past heartbeat_idle_time (a list of fds),
        closed unless close is False."""
        room = self.stats()["connection_num"] + 1024
        return _swco.swco_server_heartbeat(self._c, 1 if close else 0, room)

    # --------------------------------------------------------------- tasks

    def task(self, data, dst_worker_id=-1):
        """Hand data (any picklable object) to a task worker (-1: an idle
        one); returns the task id.  The result comes to the finish
        callback.  swco.Error -ENOSYS without task workers."""
        return _swco.swco_server_task(self._c, _pickle.dumps(data), int(dst_worker_id))

    def taskwait(self, data, timeout=0.5, dst_worker_id=-1):
        """Run a task and return its result, waiting up to timeout seconds
        (negative: no limit); yields in a coroutine.  swco.TimeoutError
        when it takes longer."""
        out = _swco.swco_server_taskwait(self._c, _pickle.dumps(data), float(timeout),
                                         int(dst_worker_id))
        return _pickle.loads(out)

    def task_co(self, tasks, timeout=0.5):
        """Run several tasks at once and return their results in order
        (Swoole's taskCo); a task that failed or did not finish within
        timeout seconds gives None."""
        ids = []
        for data in tasks:
            try:
                ids.append(_swco.swco_server_task_start(self._c, _pickle.dumps(data), -1))
            except Error:
                ids.append(None)
        deadline = _time.monotonic() + float(timeout)
        results = []
        for tid in ids:
            left = max(0.0, deadline - _time.monotonic()) if timeout >= 0 else -1.0
            try:
                out = _swco.swco_server_task_result(self._c, tid, left) if tid is not None \
                    else None
            except Error:
                out = None
            results.append(None if out is None else _pickle.loads(out))
        return results

    taskCo = task_co  # noqa: N815 (Swoole's name)

    def finish(self, result, task_id=None):
        """In a task worker: give the task its result (default: the task
        whose callback is running).  Returning it from the task callback
        does the same."""
        if task_id is None:
            task_id = _current_task.get()
            if task_id is None:
                _swco.pyswco_raise(-_errno.EINVAL)
        _swco.swco_server_finish(self._c, int(task_id), _pickle.dumps(result))

    def send_message(self, dst_worker_id, message):
        """Send any picklable object to another worker or task worker; its
        pipe_message callback gets it with this worker's id."""
        _swco.swco_server_send_message(self._c, int(dst_worker_id), _pickle.dumps(message))

    sendMessage = send_message  # noqa: N815 (Swoole's name)

    # --------------------------------------------------------- who and what

    @property
    def worker_id(self):
        """This worker's id (task workers follow the workers), -1 in the
        master or manager."""
        try:
            return _swco.swco_server_worker_id(self._c)
        except Error:
            return -1

    @property
    def is_task_worker(self):
        """True in a task worker."""
        return bool(_swco.swco_server_is_task_worker(self._c))

    def worker_pid(self, worker_id=None):
        """Pid of a worker (default: this one); 0 while it restarts."""
        if worker_id is None:
            worker_id = self.worker_id
        return _swco.swco_server_worker_pid(self._c, int(worker_id))

    @property
    def master_pid(self):
        """Pid of the process that called start()."""
        return _swco.swco_server_master_pid(self._c)

    @property
    def manager_pid(self):
        """Pid of the manager (0 when there is none)."""
        return _swco.swco_server_manager_pid(self._c)

    def listener_port(self, listener=0):
        """The port listener (0: the server's own address) is bound to."""
        return _swco.swco_server_listener_port(self._c, int(listener))

    @property
    def port(self):
        """The server's port (the real one when 0 was asked)."""
        return self.listener_port(0)

    _STATS_FIELDS = ("start_time", "connection_num", "accept_count", "close_count",
                     "request_count", "recv_bytes", "send_bytes", "worker_num",
                     "idle_worker_num", "task_worker_num", "tasking_num", "task_count",
                     "worker_restarts")
    _WORKER_FIELDS = ("worker_id", "pid", "is_task_worker", "busy", "start_time",
                      "request_count", "total_requests", "connection_num", "coroutine_num")

    def stats(self):
        """Server-wide figures as a dict (connection_num, accept_count,
        request_count, ...), with "workers": one dict per worker."""
        st = _raw.swco_server_stats_t()
        _swco.swco_server_stats(self._c, st)
        d = {name: getattr(st, name) for name in self._STATS_FIELDS}
        d["workers"] = [self.worker_stats(i)
                        for i in range(d["worker_num"] + d["task_worker_num"])]
        return d

    def worker_stats(self, worker_id):
        """One worker's figures as a dict."""
        st = _raw.swco_server_worker_stats_t()
        _swco.swco_server_worker_stats(self._c, int(worker_id), st)
        d = {name: getattr(st, name) for name in self._WORKER_FIELDS}
        d["is_task_worker"] = bool(d["is_task_worker"])
        d["busy"] = bool(d["busy"])
        return d

    def stats_prometheus(self):
        """The figures in Prometheus text exposition format."""
        return _swco.swco_server_stats_prometheus(self._c)

    def __repr__(self):
        return "<swco.Server port %d mode %d>" % (self.port, self.mode)


__all__ += ["Server", "Listener", "PacketInfo"]


# --------------------------------------------------------------------- http
# swco.http: HTTP/1.1 servers (swco/http.h).  The classes live here and are
# published as the submodule swco.http (import swco.http works too).

import collections.abc as _abc  # noqa: E402
import json as _json  # noqa: E402
import shutil as _shutil  # noqa: E402
import types as _types  # noqa: E402


def _bytes_arg(data):
    """Body data as the C calls take it: bytes-like as it is, str as UTF-8."""
    if data is None:
        return None
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return data


def _bytes_text(b):
    return b.decode("utf-8", "surrogateescape")


class _Fields(_abc.Mapping):
    """A request's fields of one kind (headers, query, cookies, form) as a
    read-only mapping: fields[name] is the first value of that name,
    getall(name) every value in order, pairs() every (name, value) as
    sent.  Header names compare case-insensitively, the others exactly."""

    __slots__ = ("_pairs", "_index", "_icase")

    def __init__(self, pairs, icase=False):
        self._pairs = pairs
        self._icase = icase
        index = {}
        for name, value in pairs:
            key = name.lower() if icase else name
            index.setdefault(key, []).append(value)
        self._index = index

    def _key(self, name):
        return name.lower() if self._icase else name

    def __getitem__(self, name):
        return self._index[self._key(name)][0]

    def __contains__(self, name):
        return isinstance(name, str) and self._key(name) in self._index

    def __iter__(self):
        seen = set()
        for name, _ in self._pairs:
            key = self._key(name)
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self):
        return len(self._index)

    def getall(self, name, default=()):
        """Every value of name, in the order they came (a list)."""
        values = self._index.get(self._key(name))
        return list(values) if values else list(default)

    get_all = getall

    def pairs(self):
        """Every (name, value) pair as sent, repeats kept."""
        return list(self._pairs)

    def to_dict(self):
        """A plain dict: name -> first value (names as sent)."""
        return {name: self[name] for name in self}

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self._pairs)


class _UploadedFile:
    """An uploaded file (a multipart/form-data part with a filename):
    field, filename, content_type, size, error (0 or a negative code: -EFBIG
    past upload_max_filesize, -EIO), tmp_path (the temp file holding it,
    None when in memory) and data (its bytes when in memory, else None).
    The temp file is removed when the handler returns unless save() moved
    it away."""

    __slots__ = ("field", "filename", "content_type", "size", "tmp_path", "data", "error")

    def __init__(self, field, filename, content_type, size, tmp_path, data, error):
        self.field = field
        self.filename = filename
        self.content_type = content_type
        self.size = size
        self.tmp_path = tmp_path
        self.data = data
        self.error = error

    def read(self):
        """Its content as bytes."""
        if self.data is not None:
            return self.data
        if self.tmp_path is None:
            return b""
        with open(self.tmp_path, "rb") as f:
            return f.read()

    def save(self, path):
        """Move (or write) it to path; returns path."""
        if self.tmp_path is not None:
            try:
                _os.replace(self.tmp_path, path)
            except OSError:
                _shutil.copyfile(self.tmp_path, path)
            self.tmp_path = None
        else:
            with open(path, "wb") as f:
                f.write(self.data or b"")
        return path

    move_to = save

    def __repr__(self):
        return "<swco.http.UploadedFile %r %r %d bytes>" % (self.field, self.filename, self.size)


class _Request:
    """The request a handler got (Swoole's Http\\Request), valid until the
    handler returns.

    method, uri ("/a/b?x=1"), path ("/a/b", percent-decoded),
    query_string ("x=1"), version (10, 11), fd, listener, remote_addr,
    remote_port, content_length (-1 chunked, 0 none) are attributes.
    headers, query (alias get), cookies (alias cookie) and post are
    mappings of str (first value by name, getall() for all; headers
    case-insensitive); files maps form fields to UploadedFile objects.
    post, files, body and json() wait for the whole body; read(n) streams
    it instead."""

    __slots__ = ("server", "_c", "method", "uri", "path", "query_string", "version", "fd",
                 "listener", "remote_addr", "remote_port", "content_length", "_cache",
                 "__weakref__")

    def __init__(self, server, raw):
        self.server = server
        self._c = raw
        (self.method, self.uri, self.path, self.query_string, self.version, self.fd,
         self.listener, self.remote_addr, self.remote_port,
         self.content_length) = _swco.pyswco_http_request_info(raw)
        self._cache = {}

    def _raw(self):
        if self._c is None:
            exc = Error("swco.http.Request: the handler returned, its request is gone")
            exc.code, exc.name = -_errno.EINVAL, "EINVAL"
            raise exc
        return self._c

    def _fields(self, kind, icase=False):
        f = self._cache.get(kind)
        if f is None:
            pairs = [(name, _bytes_text(value)) for name, value in
                     _swco.pyswco_http_params(self._raw(), kind)]
            f = self._cache[kind] = _Fields(pairs, icase)
        return f

    @property
    def headers(self):
        """Header fields (case-insensitive names, repeats kept)."""
        return self._fields(_swco.SWCO_HTTP_HEADER, True)

    header = headers

    @property
    def query(self):
        """The query string's fields, percent-decoded."""
        return self._fields(_swco.SWCO_HTTP_GET)

    get = query

    @property
    def cookies(self):
        """The Cookie header's pairs."""
        return self._fields(_swco.SWCO_HTTP_COOKIE)

    cookie = cookies

    @property
    def post(self):
        """Form fields (urlencoded or multipart), waiting for the body."""
        return self._fields(_swco.SWCO_HTTP_POST)

    @property
    def files(self):
        """Uploaded files by form field (getall() for several under one
        name), waiting for the body."""
        f = self._cache.get("files")
        if f is None:
            f = self._cache["files"] = _Fields(
                [(t[0], _UploadedFile(*t)) for t in _swco.pyswco_http_files(self._raw())])
        return f

    @property
    def body(self):
        """The whole body as bytes (what read() did not take), waiting for
        it; b"" when there is none."""
        b = self._cache.get("body")
        if b is None:
            b = self._cache["body"] = _swco.pyswco_http_body(self._raw())
        return b

    content = body

    def get_content(self):
        """The body (Swoole's getContent)."""
        return self.body

    getContent = get_content  # noqa: N815 (Swoole's name)

    def json(self):
        """The body parsed as JSON."""
        return _json.loads(self.body)

    def read(self, size=65536, timeout=0):
        """Up to size bytes of the body, waiting up to timeout seconds (0:
        http_body_timeout); b"" at its end.  swco.TimeoutError,
        swco.Error (-EMSGSIZE past package_max_length, SWCO_ENOCONN)."""
        if size <= 0:
            return b""
        n = _swco.swco_http_request_read(self._raw(), int(size), float(timeout))
        return n if isinstance(n, bytes) else b""

    def __iter__(self):
        """The body in pieces as they arrive."""
        while True:
            piece = self.read()
            if not piece:
                return
            yield piece

    @property
    def raw_header(self):
        """The request line and headers as they came (bytes)."""
        return _swco.swco_http_request_raw_header(self._raw()) or b""

    def __repr__(self):
        return "<swco.http.Request %s %s>" % (self.method, self.uri)


class _Response:
    """A handler's response (Swoole's Http\\Response).  Setters return the
    response, so calls chain:

        resp.status(201).header("Content-Type", "application/json").end(b"{}")

    end() sends the body with a Content-Length (compressed when the client
    accepts it and the options allow); write() streams it (chunked); after
    the handler returns, a response not ended is ended (status as set,
    default 200, empty body) unless detached.  Calls that fail raise
    swco.Error: -EALREADY once the headers went out (status, header) or
    after end, -EINVAL for bad names or values (CR/LF: no response
    splitting), SWCO_ENOCONN when the client went away."""

    __slots__ = ("server", "_c", "_owned", "__weakref__")

    def __init__(self, server, raw, owned=False):
        self.server = server
        self._c = raw
        self._owned = owned

    @classmethod
    def create(cls, server, fd):
        """A response for connection fd's detached request, from any
        coroutine of the worker that owns the connection.  Close it (or
        use it as a context manager) after end."""
        return cls(server, _swco.swco_http_response_create(server._c, int(fd)), owned=True)

    def _raw(self):
        if self._c is None:
            exc = Error("swco.http.Response: the handler returned, its response is gone "
                        "(detach() it and use Response.create() to answer later)")
            exc.code, exc.name = -_errno.EINVAL, "EINVAL"
            raise exc
        return self._c

    def status(self, code, reason=None):
        """Set the status code and reason (None: the standard one)."""
        _swco.swco_http_response_status(self._raw(), int(code), reason)
        return self

    def header(self, name, value):
        """Set a header, replacing others of that name (None removes)."""
        _swco.swco_http_response_header(self._raw(), str(name),
                                        None if value is None else str(value))
        return self

    def add_header(self, name, value):
        """Add a header field, keeping others of that name."""
        _swco.swco_http_response_add_header(self._raw(), str(name), str(value))
        return self

    def cookie(self, name, value="", expires=0, max_age=None, path=None, domain=None,
               secure=False, httponly=False, samesite=None, partitioned=False, raw=False):
        """Add a Set-Cookie field.  expires: Unix time (0: none); max_age:
        seconds (None: none); samesite "Strict", "Lax" or "None"; the
        value is percent-encoded unless raw."""
        flags = ((_swco.SWCO_HTTP_COOKIE_SECURE if secure else 0)
                 | (_swco.SWCO_HTTP_COOKIE_HTTPONLY if httponly else 0)
                 | (_swco.SWCO_HTTP_COOKIE_PARTITIONED if partitioned else 0)
                 | (_swco.SWCO_HTTP_COOKIE_RAW if raw else 0))
        _swco.swco_http_response_cookie(self._raw(), str(name), str(value), float(expires),
                                        -1 if max_age is None else int(max_age), path, domain,
                                        samesite, flags)
        return self

    set_cookie = cookie

    def trailer(self, name, value):
        """Add a trailer field, sent after a chunked body."""
        _swco.swco_http_response_trailer(self._raw(), str(name), str(value))
        return self

    def write(self, data):
        """Send part of the body (str as UTF-8); the headers go first.
        Waits while the connection's output is full; returns the length."""
        return _swco.swco_http_response_write(self._raw(), _bytes_arg(data))

    def end(self, data=None):
        """Finish the response with data (bytes, or str as UTF-8) as the
        (last part of the) body."""
        if isinstance(data, (dict, list)):
            data = _json.dumps(data).encode()
        _swco.swco_http_response_end(self._raw(), _bytes_arg(data))

    def json(self, obj, status=None):
        """Finish with obj as a JSON body (Content-Type application/json)."""
        if status is not None:
            self.status(status)
        self.header("Content-Type", "application/json")
        self.end(_json.dumps(obj).encode())

    def sendfile(self, path, offset=0, length=0):
        """Finish with length bytes of a file from offset (0: to its end);
        Content-Type from the file name unless set."""
        _swco.swco_http_response_sendfile(self._raw(), _os.fsdecode(path), int(offset),
                                          int(length))

    def redirect(self, location, status=302):
        """Finish with a redirect to location."""
        _swco.swco_http_response_redirect(self._raw(), str(location), int(status))

    def detach(self):
        """Returning from the handler no longer ends the response: answer
        later with Response.create(server, fd)."""
        _swco.swco_http_response_detach(self._raw())

    @property
    def is_writable(self):
        """Whether the response can still be written (not ended, client
        there)."""
        return self._c is not None and bool(_swco.swco_http_response_is_writable(self._c))

    isWritable = is_writable  # noqa: N815 (Swoole's name)

    def set_compression(self, on=True):
        """Compress this response (or not) whatever http_compression says."""
        _swco.swco_http_response_set_compression(self._raw(), 1 if on else 0)
        return self

    @property
    def fd(self):
        """The request's connection."""
        return _swco.swco_http_response_fd(self._raw())

    def close(self):
        """Free a response from create() (ending it first when it was
        not)."""
        c, self._c = self._c, None
        if c is not None and self._owned:
            _swco.swco_http_response_free(c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<swco.http.Response fd %s>" % (self._c and self.fd)


class _HttpServer(Server):
    """An HTTP/1.1 server (Swoole's Http\\Server): a swco.Server whose
    listener speaks HTTP, with a request handler.

        import swco.http

        srv = swco.http.Server("127.0.0.1", 8080, worker_num=2)

        @srv.handler
        def hello(req, resp):
            resp.header("Content-Type", "text/plain")
            resp.end("Hello, %s!" % req.query.get("name", "World"))

        srv.start()

    Server(host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP, **options):
    options are server and HTTP options by Swoole's names (worker_num,
    http_compression, package_max_length, upload_tmp_dir, document_root,
    enable_static_handler, open_websocket_protocol, ...).  The handler,
    fn(request, response), runs in a coroutine of its own per request
    (it may sleep, use channels, sockets, HTTP clients); what it returns,
    when str or bytes (or a dict/list: JSON) and the response was not
    ended, becomes the body.  An exception it raises is reported
    (Server.excepthook) and answered with 500 when no header went out
    yet.  The other events of swco.Server (worker_start, ...) work too."""

    def __init__(self, host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP, **options):
        self._c = None
        self._c = _swco.swco_http_server_new(str(host), int(port), int(mode), int(sock_type))
        self.mode = int(mode)
        self.listeners = [Listener(self, 0)]
        self._ref = _weakref.ref(self)
        _swco.swco_server_on_worker_stop(self._c, self._wrap("workerstop", None))
        if options:
            self.set(options)

    def on(self, event, fn):
        """As swco.Server.on(), plus "request": fn(request, response), and
        with open_websocket_protocol the WebSocket events (see
        swco.websocket.Server): "handshake", "open", "message", "close"."""
        key = _event_key(event)
        if key == "request":
            _swco.swco_http_on_request(self._c, self._wrap_request(fn))
            return
        if key in _WS_EVENTS:
            if not hasattr(_swco, "swco_ws_on_message"):
                exc = Error("swco: this libswco has no WebSocket support")
                exc.code, exc.name = -_errno.ENOSYS, "ENOSYS"
                raise exc
            getattr(_swco, "swco_ws_on_" + key)(self._c, self._wrap_ws(key, fn))
            return
        Server.on(self, event, fn)

    # ---------------------------------------------------------- WebSocket

    def _wrap_ws(self, key, fn):
        if fn is None:
            return None
        _check_callable(fn)
        ref = self._ref

        def call(_raw_srv, *args):
            srv = ref()
            if srv is None:
                return
            req = resp = None
            try:
                if key == "handshake":
                    req, resp = _Request(srv, args[0]), _Response(srv, args[1])
                    verdict = fn(req, resp)
                    if verdict is False or (isinstance(verdict, int)
                                            and not isinstance(verdict, bool)):
                        if resp.is_writable:
                            resp.status(403 if verdict is False else verdict)
                            resp.end()
                elif key == "open":
                    req = _Request(srv, args[1])
                    fn(srv, req)
                elif key == "message":
                    fd, opcode, data = args
                    if opcode == _WS_TEXT:
                        data = data.decode("utf-8", "surrogateescape")
                    fn(srv, _Frame(fd, data, opcode))
                else:
                    fd, code, reason = args
                    fn(srv, fd, code, reason)
            except CancelledError:
                pass
            except SystemExit:
                srv.shutdown()
            except BaseException as exc:  # noqa: B902 (reported; the worker goes on)
                try:
                    srv.excepthook(key, exc)
                except BaseException:
                    _traceback.print_exc()
                if resp is not None and resp.is_writable:  # a failed handshake refuses
                    try:
                        resp.status(500)
                        resp.end()
                    except Error:
                        pass
            finally:
                if req is not None:
                    req._c = None
                if resp is not None:
                    resp._c = None
        return call

    def push(self, fd, data, opcode=None, more=False, compress=True):
        """Send a WebSocket message to connection fd (str: text, bytes:
        binary, unless opcode says; more=True: a fragment, continued with
        opcode=swco.websocket.CONTINUATION).  From any worker in PROCESS
        mode.  swco.Error SWCO_ENOCONN when fd is no WebSocket."""
        if opcode is None:
            opcode = _WS_TEXT if isinstance(data, str) else _WS_BINARY
        flags = (_swco.SWCO_WS_FLAG_MORE if more else 0) | \
            (0 if compress else _swco.SWCO_WS_FLAG_NO_COMPRESS)
        _swco.swco_ws_push(self._c, int(fd), _bytes_arg(data), int(opcode), flags)

    def broadcast(self, data, opcode=None, exclude=0):
        """Push a message to every WebSocket connection (this worker's in
        BASE mode) but exclude; returns how many got it."""
        if opcode is None:
            opcode = _WS_TEXT if isinstance(data, str) else _WS_BINARY
        return _swco.swco_ws_broadcast(self._c, _bytes_arg(data), int(opcode), int(exclude))

    def disconnect(self, fd, code=1000, reason=None):
        """Close WebSocket connection fd with a close code and reason."""
        _swco.swco_ws_disconnect(self._c, int(fd), int(code), reason)

    def is_established(self, fd):
        """True while fd is an open WebSocket connection."""
        return bool(_swco.swco_ws_is_established(self._c, int(fd)))

    isEstablished = is_established  # noqa: N815 (Swoole's name)

    def handler(self, fn):
        """Decorator: fn(request, response) handles every request."""
        self.on("request", fn)
        return fn

    route = handler

    def _wrap_request(self, fn):
        if fn is None:
            return None
        _check_callable(fn)
        ref = self._ref

        def call(_raw_srv, raw_req, raw_resp):
            srv = ref()
            if srv is None:
                return
            req = _Request(srv, raw_req)
            resp = _Response(srv, raw_resp)
            try:
                result = fn(req, resp)
                if result is not None and resp.is_writable:
                    resp.end(result)  # str, bytes; dict or list as JSON
            except CancelledError:
                pass  # the server stopping its coroutines
            except SystemExit:
                srv.shutdown()
            except BaseException as exc:  # noqa: B902 (reported; the worker goes on)
                try:
                    srv.excepthook("request", exc)
                except BaseException:
                    _traceback.print_exc()
                try:
                    resp.status(500)
                    resp.header("Content-Type", "text/plain")
                    resp.end(b"Internal Server Error\n")
                except Error:
                    pass  # the headers went out already: the response ends as it is
            finally:
                req._c = None
                resp._c = None
        return call

    def __repr__(self):
        return "<swco.http.Server port %d mode %d>" % (self.port, self.mode)


_WS_EVENTS = ("handshake", "open", "message", "close")
_WS_TEXT = getattr(_swco, "SWCO_WS_TEXT", 1)
_WS_BINARY = getattr(_swco, "SWCO_WS_BINARY", 2)


class _Frame(_collections.namedtuple("Frame", "fd data opcode")):
    """A WebSocket message: the connection (0 on a client), its data (str
    for text, bytes otherwise) and opcode (TEXT, BINARY; PING, PONG, CLOSE
    when asked for)."""

    __slots__ = ()

    @property
    def finish(self):
        return True  # messages come whole (fragments joined)


class _WsServer(_HttpServer):
    """A WebSocket server (Swoole's WebSocket\\Server): an HTTP server whose
    listener also upgrades GET requests with "Upgrade: websocket".

        import swco.websocket

        srv = swco.websocket.Server("127.0.0.1", 9502, websocket_compression=True)
        srv.on("message", lambda srv, frame: srv.push(frame.fd, frame.data))
        srv.start()

    Events, each in a coroutine (a connection's messages in order):
      handshake(request, response)  decide on an upgrade: return False (403)
                                    or a status to refuse, None/True to
                                    accept; response.header() adds headers
                                    to the 101
      open(server, request)         the connection is a WebSocket now
      message(server, frame)        a whole message: frame.fd, .data (str
                                    for text, bytes for binary), .opcode
      close(server, fd, code, reason)
    plus "request" for plain HTTP requests on the same port.  push(),
    broadcast(), disconnect(), is_established() talk to connections."""

    def __init__(self, host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP, **options):
        _HttpServer.__init__(self, host, port, mode, sock_type)
        self.set(open_websocket_protocol=True)
        if options:
            self.set(options)

    def __repr__(self):
        return "<swco.websocket.Server port %d mode %d>" % (self.port, self.mode)


class _WsClient:
    """A coroutine WebSocket client for ws:// and wss:// URLs; its calls
    run in a coroutine (swco.run, swco.go).

        with swco.websocket.connect("ws://127.0.0.1:9502/", compression=True) as ws:
            ws.send("hello")
            print(ws.recv().data)

    Options (constructor keywords or set()): compression,
    client_no_context_takeover, server_no_context_takeover,
    client_max_window_bits, server_max_window_bits, max_frame_size,
    subprotocols, origin, ssl_verify_peer, ssl_ca_file, ssl_host_name."""

    def __init__(self, headers=None, **options):
        self._c = _swco.swco_ws_client_new()
        if options:
            self.set(**options)
        for name, value in (headers or {}).items():
            _swco.swco_ws_client_add_header(self._c, str(name), str(value))

    def set(self, **options):
        for name, value in options.items():
            _swco.swco_ws_client_set(self._c, str(name), _option_text(name, value))

    def add_header(self, name, value):
        """A header for the upgrade request."""
        _swco.swco_ws_client_add_header(self._c, str(name), str(value))

    def connect(self, url, timeout=10):
        """Connect and handshake.  swco.Error -EPROTO when the server
        answered other than 101 (see .status)."""
        _swco.swco_ws_client_connect(self._c, str(url), float(timeout))
        return self

    @property
    def status(self):
        """The HTTP status of the upgrade answer (101 when connected)."""
        return _swco.swco_ws_client_status(self._c)

    def header(self, name):
        """A header of the server's upgrade answer, or None."""
        return _swco.swco_ws_client_header(self._c, str(name))

    @property
    def subprotocol(self):
        return _swco.swco_ws_client_subprotocol(self._c)

    @property
    def compression(self):
        """True when permessage-deflate is in use."""
        return bool(_swco.swco_ws_client_compression(self._c))

    def send(self, data, opcode=None, more=False, compress=True, timeout=0):
        """Send a message (str: text, bytes: binary unless opcode says)."""
        if opcode is None:
            opcode = _WS_TEXT if isinstance(data, str) else _WS_BINARY
        flags = (_swco.SWCO_WS_FLAG_MORE if more else 0) | \
            (0 if compress else _swco.SWCO_WS_FLAG_NO_COMPRESS)
        _swco.swco_ws_client_send(self._c, _bytes_arg(data), int(opcode), flags, float(timeout))

    def recv(self, timeout=0):
        """The next message as a Frame (fd 0), or None once the server
        closed (close_code says how).  timeout <= 0: no limit;
        swco.TimeoutError after it (the client stays usable)."""
        try:
            opcode = _swco.swco_ws_client_recv(self._c, float(timeout))
        except ClosedError:
            return None
        if opcode == _swco.SWCO_WS_CLOSE:
            return None
        data = _swco.swco_ws_client_data(self._c) or b""
        if opcode == _WS_TEXT:
            data = data.decode("utf-8", "surrogateescape")
        return _Frame(0, data, opcode)

    def __iter__(self):
        """Messages until the server closes."""
        while True:
            frame = self.recv()
            if frame is None:
                return
            yield frame

    def ping(self, data=b""):
        _swco.swco_ws_client_ping(self._c, _bytes_arg(data))

    def close(self, code=1000, reason=None, timeout=5):
        """Close handshake, then close the connection."""
        if self._c is not None:
            try:
                _swco.swco_ws_client_close(self._c, int(code), reason, float(timeout))
            except TimeoutError:
                pass

    @property
    def close_code(self):
        return _swco.swco_ws_client_close_code(self._c)

    @property
    def close_reason(self):
        return _swco.swco_ws_client_close_reason(self._c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self.close_code == 0 and self.status == 101:
                self.close()
        except Error:
            pass


def _ws_connect(url, timeout=10, headers=None, **options):
    """A Client connected to url (in a coroutine)."""
    return _WsClient(headers, **options).connect(url, timeout)


def _submodule(name, doc, **attrs):
    mod = _types.ModuleType("swco." + name, doc)
    for key, value in attrs.items():
        if isinstance(value, type):
            value.__module__ = mod.__name__
            value.__qualname__ = value.__name__ = key
        setattr(mod, key, value)
    mod.__all__ = sorted(k for k in attrs if not k.startswith("_"))
    _sys.modules[mod.__name__] = mod
    return mod


http = _submodule(
    "http", """swco.http: HTTP/1.1 servers on swco.Server (swco/http.h).

    Server(host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP, **options)
    with a handler fn(request, response) run in a coroutine per request;
    Request (method, uri, path, query_string, headers, query, cookies,
    post, files, body, read()), Response (status, header, cookie, write,
    end, sendfile, redirect, detach, create) and UploadedFile.""",
    Server=_HttpServer, Request=_Request, Response=_Response, UploadedFile=_UploadedFile,
    Fields=_Fields,
    HEADER=_swco.SWCO_HTTP_HEADER, GET=_swco.SWCO_HTTP_GET, POST=_swco.SWCO_HTTP_POST,
    COOKIE=_swco.SWCO_HTTP_COOKIE)

__all__ += ["http"]

if hasattr(_swco, "swco_ws_push"):
    websocket = _submodule(
        "websocket", """swco.websocket: WebSocket servers and clients (swco/websocket.h).

        Server(host, port=0, mode=SERVER_BASE, sock_type=SOCK_TCP, **options)
        with handshake/open/message/close events and push(), broadcast(),
        disconnect(), is_established(); connect(url, **options) for a
        coroutine Client (send, recv, ping, close); Frame; the opcodes
        and close codes.""",
        Server=_WsServer, Client=_WsClient, Frame=_Frame, connect=_ws_connect,
        CONTINUATION=_swco.SWCO_WS_CONTINUATION, TEXT=_swco.SWCO_WS_TEXT,
        BINARY=_swco.SWCO_WS_BINARY, CLOSE=_swco.SWCO_WS_CLOSE, PING=_swco.SWCO_WS_PING,
        PONG=_swco.SWCO_WS_PONG, CLOSE_NORMAL=_swco.SWCO_WS_CLOSE_NORMAL,
        CLOSE_GOING_AWAY=_swco.SWCO_WS_CLOSE_GOING_AWAY,
        CLOSE_TOO_BIG=_swco.SWCO_WS_CLOSE_TOO_BIG)
    __all__ += ["websocket"]

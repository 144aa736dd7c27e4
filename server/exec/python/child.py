# One test, in a child forked from the warm worker (worker.py): limits, fresh std streams, then
# the candidate. It reports how the test ended as one JSON line on fd 3; the TypeScript side
# (server/exec/verdict.ts) turns that, the exit status and the captured output into a verdict.
#
# The report carries a per-test nonce, so a program that merely exits early (sys.exit(0),
# os._exit(0)) cannot pass for a program whose checks ran. A program that deliberately digs the
# nonce out of this process's memory can forge a report: the sandbox protects the host, not the
# honesty of the score (documented in the README).
import builtins
import gc
import importlib
import io
import json
import linecache
import math
import os
import resource
import sys
import traceback
import types

SOLUTION_FILE = '<solution>'
TEST_FILE = '<test>'
SETUP_FILE = '<setup>'
EXCERPT = 2000
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))

# The APPS harness runs every solution with this block of imports in front of it
# (docs/published.md "Datasets and their harnesses"); LeetCode-style call-based solutions rely on it (`List[int]` without an import).
APPS_PRELUDE = '''
import sys
import time
import itertools
from itertools import accumulate, product, permutations, combinations
import collections
from collections import Counter, OrderedDict, deque, defaultdict, ChainMap
from functools import lru_cache
import math
from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2
import fractions
from typing import List, Tuple
import random
import heapq
from heapq import *
'''


class LazyModule(types.ModuleType):
    """A module imported on first use. The APPS prelude's `import numpy as np` is provided this
    way: a failed or real numpy import in the worker costs ~10-30 MB of heap, and every page of
    the worker's heap makes each fork slower, while few programs touch np."""

    def __init__(self, name):
        super().__init__(name)
        self.__dict__['_lazy_name'] = name

    def __getattr__(self, attr):
        module = importlib.import_module(self.__dict__['_lazy_name'])
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)

_prelude_names = None
# Bound at import, so a program that patches json.dumps or os.write cannot rewrite its report.
_dumps = json.dumps
_write = os.write
_exit = os._exit
_gc_freeze = gc.freeze
_streams = None
_test_cache = {}
TEST_CACHE_SIZE = 512


def warm_up():
    """Import in the worker what children commonly need, so each fork starts with it loaded."""
    global _prelude_names, _streams
    ns = {'__name__': 'prelude', '__builtins__': builtins}
    exec(compile(APPS_PRELUDE, '<prelude>', 'exec'), ns)
    ns['np'] = LazyModule('numpy')
    # Small modules programs often import. Big ones (unittest, statistics, decimal) stay out: every
    # page of the worker's heap makes each fork slower, and most tests never use them.
    for name in ('bisect', 're', 'string', 'functools', 'operator', 'copy', 'threading', 'atexit',
                 'typing', 'array', 'struct', 'hashlib', 'traceback', 'linecache'):
        try:
            __import__(name)
        except ImportError:
            pass
    ns.pop('__builtins__', None)
    ns.pop('__name__', None)
    _prelude_names = ns
    # The std streams every test gets, made once here: each forked child has its own (empty) copy,
    # configured as CPython configures them for pipes, on fds 0-2 which the child points at its pipes.
    _streams = (
        io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'r', closefd=False)), encoding='utf-8', errors='strict'),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w', closefd=False)), encoding='utf-8', errors='strict'),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, 'w', closefd=False)), encoding='utf-8',
                         errors='backslashreplace', line_buffering=True),
    )


def remember_source(code):
    """Tracebacks of the candidate show its lines, as a plain `python3 file.py` run would."""
    linecache.cache[SOLUTION_FILE] = (len(code), None, code.splitlines(True), SOLUTION_FILE)


def excerpt(text, limit=EXCERPT):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + '...'


def safe_repr(value):
    try:
        return excerpt(repr(value))
    except BaseException as e:  # noqa: BLE001 - repr of hostile objects may raise anything
        return '<unrepresentable %s: %s>' % (type(value).__name__, type(e).__name__)


def new_namespace(name, prelude):
    ns = {'__name__': name, '__builtins__': builtins, '__doc__': None}
    if prelude and _prelude_names:
        ns.update(_prelude_names)
    return ns


def set_limits(limits, timeout_s, cpu_pair=None):
    cpu = int(math.ceil(timeout_s)) + 1
    plan = [
        (resource.RLIMIT_CPU,) + (cpu_pair or (cpu, cpu + 1)),
        (resource.RLIMIT_AS, int(limits['memoryBytes']), int(limits['memoryBytes'])),
        (resource.RLIMIT_FSIZE, int(limits['tmpfsBytes']), int(limits['tmpfsBytes'])),
        (resource.RLIMIT_NOFILE, int(limits['openFiles']), int(limits['openFiles'])),
        (resource.RLIMIT_NPROC, int(limits['processes']), int(limits['processes'])),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for which, soft, hard in plan:
        try:
            resource.setrlimit(which, (soft, hard))
        except ValueError:
            # Above an inherited hard limit: keep within it (a limit can only go down).
            cur_hard = resource.getrlimit(which)[1]
            resource.setrlimit(which, (min(soft, cur_hard), cur_hard))


def move_to_std_fds(fds):
    """Makes `fds` fds 0, 1, 2, ... (inheritable), via copies at 200 and up so none is overwritten
    before it is copied."""
    import fcntl
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 200) for fd in fds]
    for target, fd in enumerate(moved):
        os.dup2(fd, target, inheritable=True)


def raise_oom_score():
    # When the sandbox's processes together exhaust its memory cgroup, the OOM killer takes a
    # test process, not the worker (raising one's own score needs no privilege).
    try:
        fd = os.open('/proc/self/oom_score_adj', os.O_WRONLY)
        try:
            os.write(fd, b'1000')
        finally:
            os.close(fd)
    except OSError:
        pass


def setup_process(msg, stdin_fd, out_w, err_w, rep_w, workdir, isolated):
    if not isolated:
        os.setsid()
    # Signal dispositions are the worker's, which keeps CPython's defaults (SIGINT raises
    # KeyboardInterrupt, SIGPIPE is ignored so writes raise BrokenPipeError) and installs none.
    # The child stays non-dumpable like the worker: no core dumps, no ptrace by its own children.
    # fds 0-3 become stdin, stdout, stderr and the report; nothing else stays open.
    move_to_std_fds((stdin_fd, out_w, err_w, rep_w))
    os.closerange(4, 1 << 16)
    os.chdir(workdir)
    raise_oom_score()
    set_limits(msg['limits'], msg['timeout_ms'] / 1000.0)
    sys.stdin, sys.stdout, sys.stderr = _streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = _streams
    sys.argv = ['solution.py']
    sys.path[:] = [workdir] + [p for p in sys.path if p and os.path.abspath(p) != HARNESS_DIR]


def print_exception(e):
    """The traceback a plain run prints, without the harness's own frames."""
    try:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb, file=sys.stderr)
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not hide the verdict
        pass


def to_plain(value, depth=0):
    """Output of a call as JSON-like data: tuples become lists, dict keys become JSON keys.
    Only exact built-in types pass, so a returned object cannot fake equality with __eq__."""
    if depth > 200:
        raise ValueError('nested too deeply')
    t = type(value)
    if value is None or t is bool or t is int or t is str:
        return value
    if t is float:
        return value
    if t is list or t is tuple:
        return [to_plain(v, depth + 1) for v in value]
    if t is dict:
        out = {}
        for k, v in value.items():
            kt = type(k)
            if kt is str:
                key = k
            elif kt is bool:
                key = 'true' if k else 'false'
            elif k is None:
                key = 'null'
            elif kt is int or kt is float:
                key = repr(k)
            else:
                raise ValueError('dict key of type %s' % kt.__name__)
            out[key] = to_plain(v, depth + 1)
        return out
    raise ValueError('value of type %s' % t.__name__)


def close(a, b):
    if a == b:
        return True
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def plain_equal(a, b):
    """Strict equality of JSON-like values: bools only equal bools, numbers within a tolerance."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        if ta is int and tb is int:
            return a == b
        return close(float(a), float(b))
    if ta is list and tb is list:
        return len(a) == len(b) and all(plain_equal(x, y) for x, y in zip(a, b))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(plain_equal(a[k], b[k]) for k in a)
    if ta is not tb:
        return False
    return a == b


def int_keys(d):
    return {int(k): v for k, v in d.items()}


def apps_call_inputs(inputs):
    # JSON forces string keys: the APPS harness turns the keys of a leading dict argument into ints.
    try:
        if isinstance(inputs[0], dict):
            inputs = [int_keys(inputs[0])]
    except Exception:  # noqa: BLE001 - the harness ignores what it cannot convert
        pass
    return inputs


def apps_call_equal(output, expected):
    """The APPS call-based check: tuples as lists, the expected value or its first element."""
    try:
        if isinstance(expected, dict):
            expected = [int_keys(expected)]
    except Exception:  # noqa: BLE001
        pass
    try:
        if isinstance(expected[0], dict):
            expected = [int_keys(expected[0])]
    except Exception:  # noqa: BLE001
        pass
    if isinstance(output, tuple):
        output = list(output)
    ok = bool(output == expected)
    if isinstance(expected, list) and expected:
        ok = ok or bool(output == expected[0])
    try:
        if isinstance(output[0], tuple):
            ok = ok or bool([list(x) for x in output] == expected[0])
    except Exception:  # noqa: BLE001
        pass
    return ok


def strict_call_equal(output, expected):
    plain = to_plain(output)
    if plain_equal(plain, expected):
        return True
    # APPS stores most call-based outputs wrapped in a one-element list.
    return type(expected) is list and len(expected) == 1 and plain_equal(plain, expected[0])


def resolve(ns, fn_name):
    sol = ns.get('Solution')
    if isinstance(sol, type) and hasattr(sol, fn_name):
        return getattr(sol(), fn_name)
    if fn_name in ns:
        return ns[fn_name]
    raise NameError('the program defines no function %r (nor a class Solution with that method)' % fn_name)


def compile_test(code, filename):
    """Test code compiled once per worker (called before the fork, see prepare()): compiling in
    every child would cost more than the rest of a small test."""
    key = (code, filename)
    hit = _test_cache.get(key)
    if hit is not None:
        return hit
    try:
        result = (compile(code, filename, 'exec', dont_inherit=True), None)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as e:
        result = (None, '%s in the test code: %s' % (type(e).__name__, e))
    if len(_test_cache) >= TEST_CACHE_SIZE:
        _test_cache.clear()
    _test_cache[key] = result
    return result


def prepare(msg):
    """In the worker, before the fork: compile the test's own code."""
    if msg['kind'] in ('humaneval', 'assert'):
        if msg.get('setup'):
            compile_test(msg['setup'], SETUP_FILE)
        compile_test(msg.get('code') or '', TEST_FILE)


def run(msg, compiled, report, keep=None):
    kind = msg['kind']
    if kind == 'stdio':
        ns = new_namespace('__main__', msg.get('prelude'))
        if keep is not None:
            keep.append(ns)
        exec(compiled, ns)
        return
    if kind == 'call':
        # Malformed test data is the test's fault, not the candidate's.
        if not msg.get('fn_name'):
            report['test_error'] = 'a call test needs fn_name'
            return
        try:
            expected = json.loads(msg['expected']) if msg.get('expected') is not None else None
            inputs = json.loads(msg['input']) if msg.get('input') else []
        except ValueError as e:
            report['test_error'] = 'the test input or expected value is not JSON: %s' % e
            return
        if not isinstance(inputs, list):
            inputs = [inputs]
        inputs = apps_call_inputs(inputs)
        ns = new_namespace('solution', True)
        exec(compiled, ns)
        report['phase'] = 'call'
        fn = resolve(ns, msg['fn_name'])
        output = fn(*inputs)
        report['phase'] = 'compare'
        report['output_repr'] = safe_repr(output)
        if msg.get('comparator') == 'apps':
            report['equal'] = apps_call_equal(output, expected)
        else:
            try:
                report['equal'] = strict_call_equal(output, expected)
            except ValueError as e:
                report['equal'] = False
                report['note'] = 'the result is not plain data (%s)' % e
        return
    # humaneval / assert: the candidate, then the setup, then the test code, in one namespace: the
    # order of an MBPP record (code, test_setup_code, test_list), whose setup may use the
    # candidate's names (MBPP 367 builds trees with the solution's Node class).
    ns = new_namespace('solution', False)
    report['phase'] = 'run'
    exec(compiled, ns)
    if msg.get('setup'):
        setup, err = compile_test(msg['setup'], SETUP_FILE)
        if err:
            report['test_error'] = err
            return
        linecache.cache[SETUP_FILE] = (len(msg['setup']), None, msg['setup'].splitlines(True), SETUP_FILE)
        report['phase'] = 'setup'
        exec(setup, ns)
    test, err = compile_test(msg.get('code') or '', TEST_FILE)
    if err:
        report['test_error'] = err
        return
    linecache.cache[TEST_FILE] = (len(msg.get('code') or ''), None, (msg.get('code') or '').splitlines(True), TEST_FILE)
    report['phase'] = 'check'
    exec(test, ns)
    if kind == 'humaneval':
        fn_name = msg.get('fn_name')
        if not fn_name:
            report['test_error'] = 'a humaneval test needs an entry point (fn_name)'
            return
        check = ns.get('check')
        if not callable(check):
            report['test_error'] = 'the test code defines no check(candidate)'
            return
        if fn_name not in ns:
            raise NameError("name '%s' is not defined" % fn_name)
        check(ns[fn_name])


def finish_stdio(report):
    """What interpreter shutdown does for a script: atexit handlers, non-daemon threads, flush."""
    try:
        threading = sys.modules.get('threading')
        if threading is not None and threading.active_count() > 1 and hasattr(threading, '_shutdown'):
            threading._shutdown()
        import atexit
        if atexit._ncallbacks():
            atexit._run_exitfuncs()
    except BaseException as e:  # noqa: BLE001
        report['outcome'] = 'exception'
        report['exc_type'] = type(e).__name__
        report['exc_msg'] = excerpt(e)
    try:
        if not sys.stdout.closed:
            sys.stdout.flush()
    except BaseException as e:  # noqa: BLE001 - e.g. a write error on flush: exit status 120
        report['flush_error'] = '%s: %s' % (type(e).__name__, excerpt(e))


def main(msg, compiled, stdin_fd, out_w, err_w, rep_w, workdir, isolated):
    nonce = msg.get('nonce')
    try:
        setup_process(msg, stdin_fd, out_w, err_w, rep_w, workdir, isolated)
    except BaseException as e:  # noqa: BLE001
        os.write(err_w if err_w > 2 else 2, ('harness: cannot set up the test: %r\n' % (e,)).encode())
        os._exit(71)
    # No memory is set aside for the report: touching 1 MiB costs a millisecond of page faults
    # per test, and a MemoryError frees the program's objects (its frames and namespace go with
    # the traceback, dropped below) before the report is written.
    report = {'nonce': nonce, 'phase': 'run', 'outcome': 'ok'}
    execute(msg, compiled, report)
    write_report(report)
    _exit(0)


def execute(msg, compiled, report, keep=None):
    """Runs one test in this process and fills in its report (how it ended)."""
    try:
        run(msg, compiled, report, keep)
        if 'test_error' in report:
            report['outcome'] = 'test_error'
    except MemoryError as e:
        report['outcome'] = 'memory'
        report['exc_type'] = 'MemoryError'
        report['exc_msg'] = excerpt(e)
        e.__traceback__ = None
    except SystemExit as e:
        code = e.code
        if code is None or code == 0:
            report['outcome'] = 'ok' if msg['kind'] == 'stdio' else 'exit'
            report['exit_code'] = 0
        else:
            report['outcome'] = 'exit'
            report['exit_code'] = code if isinstance(code, int) else 1
            if not isinstance(code, int):
                try:
                    sys.stderr.write(excerpt(code) + '\n')
                except BaseException:  # noqa: BLE001
                    pass
    except BaseException as e:  # noqa: BLE001 - any exception of the program is its verdict
        report['outcome'] = 'exception'
        report['exc_type'] = type(e).__name__
        report['exc_msg'] = excerpt(safe_str(e))
        report['assertion'] = isinstance(e, AssertionError)
        print_exception(e)
    if msg['kind'] == 'stdio':
        finish_stdio(report)
    else:
        try:
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001
            pass


def write_report(report):
    try:
        data = ('\n' + _dumps(report, default=str) + '\n').encode('utf-8', 'replace')
        while data:
            n = _write(3, data)
            data = data[n:]
    except BaseException:  # noqa: BLE001
        _exit(72)


def safe_str(e):
    try:
        return str(e)
    except BaseException:  # noqa: BLE001
        return '<unprintable %s>' % type(e).__name__


# ---- A group of stdin/stdout tests in one child (worker.run_group) -------------------------------
# The tests of one candidate that are all stdin/stdout run one after another in one forked child,
# as the APPS and human-eval harnesses run them in one interpreter, but each gets what a fresh
# child would: its own stdin, a fresh namespace and std streams, the work directory emptied by the
# worker, its CPU limit, rlimits, cwd, umask, environment, signal handlers and timers reset, and
# its own wall clock and output caps (the worker's). After a test the child goes on only when it is
# provably quiet and unchanged where it matters (one thread, no process of its own, its std
# descriptors untouched, memory near where it started); the worker also checks that no other
# process is left in the sandbox and goes on only after a plain pass. Anything else ends the group
# and the remaining tests get fresh children. What a test leaves inside the interpreter (modules it
# imported or changed) is visible to the candidate's later tests only, as in those harnesses.
GROUP_GROWTH_BYTES = 64 << 20


def _status_kb(keys):
    found = {}
    try:
        with open('/proc/self/status', 'rb') as f:
            for line in f:
                key = line.split(b':', 1)[0]
                if key in keys:
                    found[key] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return found


def _quiet(fds0, vm0, limits):
    """After a test: may the next one run in this process? Resets what must not carry over."""
    try:
        import signal
        for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(which, 0)
        for sig, handler in _signals.items():
            if signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, _sigmask)
        if len(os.listdir('/proc/self/task')) != 1:
            return False
        try:
            os.waitpid(-1, os.WNOHANG)
            return False  # a child of its own, alive or not reaped
        except ChildProcessError:
            pass
        for fd, ident in fds0.items():
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != ident:
                return False
        for which, pair in _rlimits.items():
            if resource.getrlimit(which) != pair:
                return False  # e.g. a hard limit it lowered, which could not be raised again
        vm = _status_kb((b'VmSize', b'VmHWM'))
        if b'VmSize' not in vm or b'VmHWM' not in vm:
            return False
        cap = int(limits['memoryBytes'])
        if (vm[b'VmSize'] - vm0) * 1024 > min(GROUP_GROWTH_BYTES, cap // 16) or vm[b'VmHWM'] * 1024 > cap // 4:
            return False
        # What the test left behind is never collected (a fresh child's os._exit would not run
        # its finalizers either), so nothing of it runs during a later test.
        _gc_freeze()
        return True
    except BaseException:  # noqa: BLE001 - anything odd: no reuse
        return False


_signals = {}
_sigmask = set()
_rlimits = {}


def main_group(tests, compiled, out_w, err_w, rep_w, go_r, workdir, limits):
    """Runs tests (stdio, already in order) one by one; before each but the first, waits for the
    worker's go byte on go_r. Each report carries 'group': whether this process may go on."""
    import signal
    global _sigmask
    try:
        import fcntl
        # The go pipe sits above the open-files limit: the program cannot get that number.
        go = fcntl.fcntl(go_r, fcntl.F_DUPFD_CLOEXEC, max(int(limits['openFiles']), 10))
        null = os.open('/dev/null', os.O_RDONLY)
        move_to_std_fds((null, out_w, err_w, rep_w))
        os.closerange(4, go)
        os.closerange(go + 1, 1 << 16)
        raise_oom_score()
        for sig in signal.valid_signals():
            try:
                h = signal.getsignal(sig)
            except (ValueError, OSError):
                continue
            if h is not None:
                _signals[sig] = h
        _sigmask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        fds0 = {}
        for fd in (1, 2, 3):
            st = os.fstat(fd)
            fds0[fd] = (st.st_dev, st.st_ino)
        vm0 = _status_kb((b'VmSize',)).get(b'VmSize', 0)
        environ = dict(os.environ)
        umask = os.umask(0o022)
        os.umask(umask)
        per_test = int(math.ceil(max(t['timeout_ms'] for t in tests) / 1000.0)) + 1
        used0 = resource.getrusage(resource.RUSAGE_SELF)
        hard = int(math.ceil(used0.ru_utime + used0.ru_stime)) + len(tests) * (per_test + 1) + 1
        path0 = [workdir] + [p for p in sys.path if p and os.path.abspath(p) != HARNESS_DIR]
    except BaseException as e:  # noqa: BLE001
        os.write(err_w if err_w > 2 else 2, ('harness: cannot set up the tests: %r\n' % (e,)).encode())
        os._exit(71)
    keep = []
    for k, msg in enumerate(tests):
        if k:
            try:
                if os.read(go, 1) != b'g':
                    _exit(0)
            except OSError:
                _exit(0)
        try:
            stdin_fd = os.memfd_create('stdin', 0)
            data = memoryview((msg.get('input') or '').encode('utf-8', 'surrogatepass'))
            while data:
                data = data[os.write(stdin_fd, data):]
            os.lseek(stdin_fd, 0, os.SEEK_SET)
            if stdin_fd != 0:  # fd 0 is free when the last test closed it (open(0))
                os.dup2(stdin_fd, 0, inheritable=True)
                os.close(stdin_fd)
            else:
                os.set_inheritable(0, True)
            if k:
                os.closerange(4, go)
            os.chdir(workdir)
            os.umask(umask)
            if os.environ != environ:
                os.environ.clear()
                os.environ.update(environ)
            timeout_s = msg['timeout_ms'] / 1000.0
            ru = resource.getrusage(resource.RUSAGE_SELF)
            soft = int(math.ceil(ru.ru_utime + ru.ru_stime)) + int(math.ceil(timeout_s)) + 1
            set_limits(limits, timeout_s, (min(soft, hard - 1), hard))
            if not _rlimits:
                for name in dir(resource):
                    if name.startswith('RLIMIT_') and name != 'RLIMIT_CPU':
                        which = getattr(resource, name)
                        _rlimits[which] = resource.getrlimit(which)
            streams = (
                io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'r', closefd=False)), encoding='utf-8', errors='strict'),
                io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w', closefd=False)), encoding='utf-8', errors='strict'),
                io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, 'w', closefd=False)), encoding='utf-8',
                                 errors='backslashreplace', line_buffering=True),
            )
            keep.append(streams)
            keep.append((sys.stdin, sys.stdout, sys.stderr))
            sys.stdin, sys.stdout, sys.stderr = streams
            sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams
            sys.argv = ['solution.py']
            sys.path[:] = path0
            sys.setrecursionlimit(_recursion_limit)
        except BaseException as e:  # noqa: BLE001
            try:
                os.write(2, ('harness: cannot set up the test: %r\n' % (e,)).encode())
            except OSError:
                pass
            os._exit(71)
        report = {'nonce': msg.get('nonce'), 'phase': 'run', 'outcome': 'ok'}
        execute(msg, compiled, report, keep)
        last = k == len(tests) - 1
        report['group'] = (not last and report.get('outcome') == 'ok' and 'flush_error' not in report
                           and _quiet(fds0, vm0, limits))
        write_report(report)
        if not report['group']:
            _exit(0)
    _exit(0)


_recursion_limit = sys.getrecursionlimit()

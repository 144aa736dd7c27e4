# PairForge execution worker: runs inside the bubblewrap sandbox (server/exec/sandbox.ts), stays
# warm, and forks one limited child per test (server/exec/python/child.py).
#
# Protocol: one JSON object per line on the control channel, a socket the engine passes as fd 3
# (not stdin/stdout, which bubblewrap's init also holds; the channel is moved to a high
# close-on-exec fd at start and every other inherited fd is closed, so no test can reach it).
#   -> {"op":"ready", ...}                                   once started
#   <- {"op":"run","code"?,"tests":[...],"start":i,"nonces":[...],"test_timeout_ms","candidate_ms",
#       "all_results","comparator","prelude","limits"}       code is compiled once (omitted: reuse)
#   -> {"op":"loaded","ok":true} | {"op":"loaded","ok":false,"error":...,"line":n}   when code given
#   -> {"op":"result","ordinal":i,"status":"exited"|"signaled"|"timeout"|"output_limit",...}  per test
#   -> {"op":"done","next":i,"reason":"complete"|"failed"|"stopped"|"candidate_time"|"dirty"|"error"}
#   <- {"op":"stop"}   between tests: stop this run       <- {"op":"exit"}
# The worker never trusts what a child writes: it only relays the child's report (fd 3), its
# captured output (capped) and how it ended; verdicts are decided in TypeScript (verdict.ts).
import errno
import fcntl
import gc
import json
import os
import resource
import select
import signal
import sys
import time

import child

MOVE_FD_FLOOR = 20
# Inside the sandbox /tmp is the private tmpfs; unisolated (--workdir DIR) it is a private dir.
WORK_ROOT = '/tmp'
WORK_DIR = '/tmp/w'
ISOLATED = True
STDERR_TAIL = 8192
READ_CHUNK = 65536


def high_fd(fd):
    """Duplicate fd to a number >= MOVE_FD_FLOOR (close-on-exec) and close the original."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, MOVE_FD_FLOOR)
    os.close(fd)
    return new


def prctl(option, arg):
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0)
    except Exception:  # noqa: BLE001 - hardening is best effort where ctypes is absent
        return -1


PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
CHANNEL_FD = 3


def effective_caps():
    """The worker's effective capability set (0 inside the sandbox), or None if unreadable."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('CapEff:'):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return None


def network_interfaces():
    """How many network interfaces the worker sees (1 inside the sandbox: loopback only)."""
    try:
        import socket
        return len(socket.if_nameindex())
    except OSError:
        return None


class Channel:
    def __init__(self, rfd, wfd):
        self.rfd = rfd
        self.wfd = wfd
        self.buf = b''

    def recv(self):
        while b'\n' not in self.buf:
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def stop_requested(self):
        """Between tests: has the parent asked to stop (or to exit)? Never blocks."""
        if b'\n' not in self.buf:
            ready, _, _ = select.select([self.rfd], [], [], 0)
            if ready:
                chunk = os.read(self.rfd, 1 << 20)
                if not chunk:
                    return True
                self.buf += chunk
        if b'\n' not in self.buf:
            return False
        line, rest = self.buf.split(b'\n', 1)
        op = json.loads(line).get('op')
        if op == 'stop':
            self.buf = rest
            return True
        # 'exit' stays queued for the main loop.
        return op == 'exit'

    def send(self, obj):
        data = (json.dumps(obj, ensure_ascii=True) + '\n').encode('ascii')
        view = memoryview(data)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]


def children_of(pid):
    """Living processes whose parent is pid (from /proc)."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b')') + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(name))
    return found


def kill_everything_else():
    return kill_pid_namespace() if ISOLATED else kill_descendants()


def reap_ended():
    """Reaps every child that has ended: (how many, whether no child at all is left)."""
    reaped = 0
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped, True
        if pid == 0:
            return reaped, False
        reaped += 1


def kill_descendants():
    """Unisolated mode: no PID namespace, so kill(-1) would reach the host. As the subreaper we
    get every orphaned descendant back; kill whatever is still our child until none is left."""
    me = os.getpid()

    def kill_children():
        for pid in children_of(me):
            sigkill(pid)
    return kill_until_none_left(kill_children)


def kill_pid_namespace():
    """SIGKILL every process of the sandbox but init and us, and reap them all.

    kill(-1) reaches every process we may signal except the namespace's init and ourselves; we are
    the subreaper, so orphans (background processes, fork bombs) come back to us to be reaped.
    Repeats while something is left, since a dying fork bomb can still spawn for a moment.
    Returns how many processes were reaped.
    """
    return kill_until_none_left(lambda: sigkill(-1))


def sigkill(pid):
    """SIGKILL `pid` (-1: everything we may signal), if anything is there."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_until_none_left(kill):
    """Calls `kill()` and reaps what ended, again while something is left (a dying fork bomb can
    still spawn for a moment), up to 2000 times 0.5 ms apart. Returns how many processes were
    reaped, or -1 when some were still left."""
    reaped = 0
    for _ in range(2000):
        kill()
        n, none_left = reap_ended()
        reaped += n
        if none_left:
            return reaped
        time.sleep(0.0005)
    return -1


def wipe(path):
    """Empty a directory tree that the test may have made unwritable or unreadable."""
    ok = True
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return True
    except PermissionError:
        try:
            os.chmod(path, 0o700)
            entries = list(os.scandir(path))
        except OSError:
            return False
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                try:
                    os.chmod(entry.path, 0o700)
                except OSError:
                    pass
                ok = wipe(entry.path) and ok
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            ok = False
    return ok


def fresh_workdir():
    ok = wipe(WORK_ROOT)
    try:
        os.mkdir(WORK_DIR, 0o755)
    except FileExistsError:
        ok = False
    return ok


class Capture:
    """Output of one pipe: the first `cap` bytes (stdout) or a tail (stderr), and the total."""

    def __init__(self, cap, keep_tail):
        self.cap = cap
        self.keep_tail = keep_tail
        self.total = 0
        self.data = bytearray()

    def add(self, chunk):
        self.total += len(chunk)
        if self.keep_tail:
            self.data += chunk
            if len(self.data) > STDERR_TAIL:
                del self.data[:len(self.data) - STDERR_TAIL]
        elif len(self.data) < self.cap:
            self.data += chunk[:self.cap - len(self.data)]

    def over(self):
        return self.total > self.cap


def make_stdin(text):
    fd = os.memfd_create('stdin', 0)
    data = text.encode('utf-8', 'surrogatepass')
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def watch_child(pid, fds):
    """Makes `fds` (the child's pipes) non-blocking and returns (pidfd or None, a poller on the
    pipes and the pidfd)."""
    for fd in fds:
        os.set_blocking(fd, False)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    return pidfd, poller


def fork_running(run, parent_closes):
    """Forks a child that runs `run()` and never returns from it (exit 70 if it does); the parent
    closes `parent_closes` (the child's ends of the pipes) and gets the pid."""
    pid = os.fork()
    if pid == 0:
        try:
            run()
        finally:
            os._exit(70)
    for fd in parent_closes:
        os.close(fd)
    return pid


def test_captures(out_cap):
    """Fresh captures for one test: stdout and stderr (capped at `out_cap`) and the harness report."""
    return Capture(out_cap, False), Capture(out_cap, True), Capture(4 << 20, False)


def pump(poller, pidfd, read_fd, deadline, now):
    """Waits for the child's pipes (or its exit) until `deadline` at the most and reads what came.
    Without a pidfd the wait is cut to 5 ms, so the caller's wait4 polling sees an exit soon."""
    wait_ms = max(1, int((deadline - now) * 1000))
    if pidfd is None:
        wait_ms = min(wait_ms, 5)
    for fd, _ev in poller.poll(wait_ms):
        if fd != pidfd:
            read_fd(fd)


def fd_reader(poller, open_fds, caps):
    """A function reading what is there on one of `open_fds` into its Capture in `caps`; at end
    of file it drops the fd from the poller and from `open_fds`."""
    def read_fd(fd):
        while True:
            try:
                chunk = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b''
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
                return
            caps[fd].add(chunk)
            if len(chunk) < READ_CHUNK:
                return
    return read_fd


def drain(read_fd, open_fds):
    """Reads what is left on every still open pipe (non-blocking, still capped)."""
    for fd in list(open_fds):
        os.set_blocking(fd, False)
        read_fd(fd)


def kill_and_reap(pid):
    """SIGKILLs the child `pid` (if not gone already) and waits for it: (wait status, rusage)."""
    sigkill(pid)
    _got, wait_status, rusage = os.wait4(pid, 0)
    return wait_status, rusage


def close_quietly(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def exit_fields(wait_status):
    """(exit code, signal) of a wait status, each None when it does not apply."""
    return (os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None,
            os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None)


def last_report(report):
    """The child's report: the last line it wrote (anything else there is noise), or None."""
    raw = bytes(report.data)
    if raw and not report.over():
        try:
            return json.loads(raw.strip().split(b'\n')[-1])
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def mark_dirty(result, extra):
    """Marks `result` dirty when processes could not be killed (extra < 0) or the work directory
    cannot be made fresh again."""
    if extra < 0:
        result['dirty'] = True
    if not fresh_workdir():
        result['dirty'] = True


def cpu_wait_s(pid):
    """Seconds `pid` has spent runnable but waiting for a CPU (/proc/<pid>/schedstat), 0 if unknown."""
    try:
        with open('/proc/%d/schedstat' % pid, 'rb') as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class TestClock:
    """A test's time limit on the wall clock, not counting the time its process spent runnable but
    waiting for a CPU: what a busy machine takes from a program is not the program's doing, so its
    verdict does not depend on the load (a program that sleeps or blocks waits for no CPU and times
    out on time). Never past `hard` (twice the limit, within the candidate's time)."""

    def __init__(self, pid, started, limit_s, hard):
        self.pid = pid
        self.started = started
        self.limit = limit_s
        self.hard = hard
        self.wait0 = cpu_wait_s(pid)
        self.deadline = min(started + limit_s, hard)
        self.waited = 0.0

    def expired(self, now):
        """Whether the test is out of time at `now`; moves the deadline by the CPU wait so far."""
        if now < self.deadline:
            return False
        self.waited = max(0.0, cpu_wait_s(self.pid) - self.wait0)
        self.deadline = min(self.started + self.limit + self.waited, self.hard)
        return now >= self.deadline


def run_test(msg, compiled):
    limits = msg['limits']
    timeout = msg['timeout_ms'] / 1000.0
    out_cap = int(limits['outputBytes'])
    stdin_fd = make_stdin(msg.get('input') or '') if msg['kind'] == 'stdio' else os.open('/dev/null', os.O_RDONLY)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    rep_r, rep_w = os.pipe()
    child.prepare(msg)
    started = time.monotonic()
    pid = fork_running(lambda: child.main(msg, compiled, stdin_fd, out_w, err_w, rep_w, WORK_DIR, ISOLATED),
                       (stdin_fd, out_w, err_w, rep_w))
    pidfd, poller = watch_child(pid, (out_r, err_r, rep_r))
    stdout, stderr, report = test_captures(out_cap)
    caps = {out_r: stdout, err_r: stderr, rep_r: report}
    open_fds = set(caps)
    read_fd = fd_reader(poller, open_fds, caps)
    status = None
    wait_status = None
    rusage = None
    ended = None
    clock = TestClock(pid, started, timeout, started + msg.get('hard_ms', msg['timeout_ms']) / 1000.0)

    while status is None:
        now = time.monotonic()
        if clock.expired(now):
            status = 'timeout'
            break
        if wait_status is None:
            got, st, ru = os.wait4(pid, os.WNOHANG)
            if got == pid:
                wait_status, rusage, ended = st, ru, time.monotonic()
                break
        pump(poller, pidfd, read_fd, clock.deadline, now)
        if stdout.over() or stderr.over():
            status = 'output_limit'
        elif report.over():
            status = 'output_limit'

    # The test's main process ended or must end: everything it left behind goes too.
    if wait_status is None:
        wait_status, rusage = kill_and_reap(pid)
        ended = time.monotonic()
    extra = kill_everything_else()
    # Every writer is gone now: what is left in the pipes is read to the end (still capped).
    drain(read_fd, open_fds)
    if status is None and (stdout.over() or stderr.over()):
        status = 'output_limit'
    close_quietly((out_r, err_r, rep_r))
    if pidfd is not None:
        os.close(pidfd)

    if status is None:
        status = 'signaled' if os.WIFSIGNALED(wait_status) else 'exited'
    result = group_result(msg, status, *exit_fields(wait_status), stdout, stderr, None, started, ended,
                          (rusage.ru_utime + rusage.ru_stime) * 1000 if rusage else None,
                          rusage.ru_maxrss if rusage else None)
    result['leftover_processes'] = extra
    result['report'] = last_report(report)
    result['cpu_wait_ms'] = round(clock.waited * 1000, 3)
    mark_dirty(result, extra)
    return result


def other_processes(*known):
    """Pids in the sandbox's PID namespace other than init, the worker and `known`."""
    skip = {1, os.getpid()} | set(known)
    return [int(n) for n in os.listdir('/proc') if n.isdigit() and int(n) not in skip]


def proc_cpu_ms(pid):
    """CPU time (user + system) of a live process so far, from /proc (clock-tick resolution)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read()
        fields = stat[stat.rfind(b')') + 2:].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return None


CLOCK_TICKS = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def group_report(report, nonce):
    """The harness's report of a test that ended inside a group child, once complete."""
    raw = bytes(report.data)
    if not raw.endswith(b'\n') or report.over():
        return None
    try:
        rep = json.loads(raw.strip().split(b'\n')[-1])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(rep, dict) or rep.get('nonce') != nonce or 'group' not in rep:
        return None
    return rep


def run_group(chan, tests, compiled, deadline, all_results):
    """Runs `tests` (consecutive stdin/stdout tests, with ordinal, nonce and timeout_ms) in one
    forked child (child.main_group), each under its own wall clock and output caps. Sends each
    result. Returns (tests done, reason): reason None when the caller should go on with the
    remaining tests itself (the group ended early on a plain pass or a quiet exit)."""
    limits = tests[0]['limits']
    out_cap = int(limits['outputBytes'])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    rep_r, rep_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = fork_running(lambda: child.main_group(tests, compiled, out_w, err_w, rep_w, go_r, WORK_DIR, limits),
                       (out_w, err_w, rep_w, go_r))
    pidfd, poller = watch_child(pid, (out_r, err_r, rep_r))
    open_fds = {out_r, err_r, rep_r}
    caps = {}
    read_fd = fd_reader(poller, open_fds, caps)
    done = 0
    reason = None
    child_alive = True
    try:
        for k, test in enumerate(tests):
            if k:
                if time.monotonic() >= deadline:
                    reason = 'candidate_time'
                    break
                try:
                    os.write(go_w, b'g')
                except OSError:
                    pass  # the child died meanwhile (e.g. the OOM killer): wait4 below sees it
            stdout, stderr, report = test_captures(out_cap)
            caps.update({out_r: stdout, err_r: stderr, rep_r: report})
            cpu0 = proc_cpu_ms(pid) if k else 0.0
            started = time.monotonic()
            clock = TestClock(pid, started, test['timeout_ms'] / 1000.0,
                              min(started + test.get('hard_ms', test['timeout_ms']) / 1000.0, deadline))
            status = None
            wait_status = None
            rusage = None
            ended = None
            rep = None
            while status is None:
                now = time.monotonic()
                if clock.expired(now):
                    status = 'timeout'
                    break
                got, st, ru = os.wait4(pid, os.WNOHANG)
                if got == pid:
                    wait_status, rusage, ended = st, ru, time.monotonic()
                    child_alive = False
                    break
                pump(poller, pidfd, read_fd, clock.deadline, now)
                if stdout.over() or stderr.over() or report.over():
                    status = 'output_limit'
                elif rep_r in open_fds:
                    rep = group_report(report, test['nonce'])
                    if rep is not None:
                        ended = time.monotonic()
                        break
            went_on = False
            extra = 0
            if rep is not None and status is None:
                # The test ended inside the child, which now waits: everything it wrote is in the
                # pipes before its report.
                for fd in list(open_fds):
                    read_fd(fd)
                cpu1 = proc_cpu_ms(pid)
                over = stdout.over() or stderr.over()
                result = group_result(test, 'output_limit' if over else 'exited', 0, None, stdout, stderr, rep,
                                      started, ended, None if cpu1 is None or cpu0 is None else cpu1 - cpu0, None)
                # On only after a plain pass, with nothing else alive in the sandbox.
                went_on = (rep.get('group') is True and k + 1 < len(tests) and not over
                           and likely_pass(result, test) and not other_processes(pid))
            else:
                if child_alive:
                    wait_status, rusage = kill_and_reap(pid)
                    ended = ended or time.monotonic()
                    child_alive = False
                extra = kill_everything_else()
                drain(read_fd, open_fds)
                if status is None and (stdout.over() or stderr.over()):
                    status = 'output_limit'
                if status is None:
                    status = 'signaled' if os.WIFSIGNALED(wait_status) else 'exited'
                cpu = (rusage.ru_utime + rusage.ru_stime) * 1000 - (cpu0 or 0.0) if rusage else None
                result = group_result(test, status, *exit_fields(wait_status), stdout, stderr, None, started,
                                      ended, cpu, rusage.ru_maxrss if rusage else None)
                result['report'] = last_report(report)
            if went_on:
                if not fresh_workdir():
                    went_on = False
            if not went_on and child_alive:
                kill_and_reap(pid)
                child_alive = False
                extra = kill_everything_else()
            if not went_on:
                mark_dirty(result, extra)
            result['leftover_processes'] = extra
            result['cpu_wait_ms'] = round(clock.waited * 1000, 3)
            chan.send(result)
            done += 1
            reason = stop_reason(chan, result, test, all_results)
            if reason:
                break
            if not went_on:
                break
    finally:
        if child_alive:
            kill_and_reap(pid)
            kill_everything_else()
            fresh_workdir()
        close_quietly((out_r, err_r, rep_r, go_w))
        if pidfd is not None:
            os.close(pidfd)
    return done, reason


def stop_reason(chan, result, test, all_results):
    """Why a candidate's run stops after this test's result, or None to go on: the sandbox is
    dirty, the parent asked to stop, or (unless all results are wanted) the test did not pass."""
    if result['dirty']:
        return 'dirty'
    if chan.stop_requested():
        return 'stopped'
    if not all_results and not likely_pass(result, test):
        return 'failed'
    return None


def group_result(test, status, exit_code, sig, stdout, stderr, rep, started, ended, cpu_ms, maxrss_kb):
    return {
        'op': 'result',
        'ordinal': test.get('ordinal'),
        'status': status,
        'exit_code': exit_code,
        'signal': sig,
        'stdout': bytes(stdout.data).decode('utf-8', 'replace'),
        'stdout_bytes': stdout.total,
        'stderr_tail': bytes(stderr.data).decode('utf-8', 'replace'),
        'stderr_bytes': stderr.total,
        'report': rep,
        'duration_ms': round(((ended or time.monotonic()) - started) * 1000, 3),
        'cpu_ms': round(cpu_ms, 3) if cpu_ms is not None else None,
        'maxrss_kb': maxrss_kb,
        'leftover_processes': 0,
        'dirty': False,
    }


def anon_rss_kb():
    try:
        with open('/proc/self/status', 'rb') as f:
            for line in f:
                if line.startswith(b'RssAnon:'):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def rstripped_lines(text):
    lines = [line.rstrip() for line in text.split('\n')]
    while lines and lines[-1] == '':
        lines.pop()
    return lines


def likely_pass(result, test):
    """Whether to go on to the next test without the parent's verdict. Only the plain cases: the
    parent (verdict.ts) decides every verdict, and sends the run on again if it sees a pass here
    where this said no (e.g. numbers within tolerance, the apps comparator's leniency)."""
    rep = result['report']
    if result['status'] != 'exited' or not rep or rep.get('nonce') != test['nonce'] or rep.get('outcome') != 'ok':
        return False
    if test['kind'] == 'stdio':
        return rstripped_lines(result['stdout']) == rstripped_lines(test.get('expected') or '')
    if test['kind'] == 'call':
        return rep.get('equal') is True
    return True


COMMON = ('comparator', 'prelude', 'limits')


def test_message(msg, i, remaining):
    """Test `i` of a candidate's run message as one test to run: its own fields, the run's common
    ones, its ordinal and nonce, and a wall clock within the candidate's `remaining` seconds."""
    test = dict(msg['tests'][i])
    for key in COMMON:
        test[key] = msg.get(key)
    test['ordinal'] = i
    test['nonce'] = msg['nonces'][i]
    test['timeout_ms'] = max(1, min(int(msg['test_timeout_ms']), int(remaining * 1000)))
    # How far time spent waiting for a CPU may push the test's end (TestClock).
    test['hard_ms'] = max(test['timeout_ms'], min(2 * int(msg['test_timeout_ms']), int(remaining * 1000)))
    return test


def group_from(msg, i, remaining):
    """The stdin/stdout tests from i on that can share one child (run_group), or None. Only
    inside the sandbox, where the worker sees every process of the PID namespace; only when the
    go pipe fits above the open-files limit."""
    tests = msg['tests']
    if not ISOLATED or i + 1 >= len(tests):
        return None
    if max(int(msg['limits']['openFiles']) + 16, 260) > resource.getrlimit(resource.RLIMIT_NOFILE)[0]:
        return None
    group = []
    for j in range(i, len(tests)):
        if tests[j].get('kind') != 'stdio':
            break
        group.append(test_message(msg, j, remaining))
    return group if len(group) > 1 else None


OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN)


def report_out_of_resources(chan, ordinal, e):
    """A fork or pipe that failed for want of files, memory or processes is the worker's state, not
    the candidate's verdict: tell the parent to replace this worker. Any other OSError is a bug and
    propagates."""
    if e.errno not in OUT_OF_RESOURCES:
        raise e
    chan.send({'op': 'error', 'ordinal': ordinal, 'error': 'worker out of resources: %s' % e, 'recycle': True})


def run_batch(chan, msg, compiled):
    """Runs tests[start:] one after another, sending each result as it comes; stops at the first
    test that is not plainly a pass (unless all_results), when the parent says stop, when the
    candidate's time is up or when the sandbox needs replacing. Ends with {"op":"done"}."""
    tests = msg['tests']
    i = int(msg.get('start') or 0)
    deadline = time.monotonic() + msg['candidate_ms'] / 1000.0
    reason = 'complete'
    while i < len(tests):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = 'candidate_time'
            break
        group = group_from(msg, i, remaining)
        if group:
            try:
                done, why = run_group(chan, group, compiled, deadline, msg.get('all_results'))
            except OSError as e:
                report_out_of_resources(chan, i, e)
                reason = 'error'
                break
            i += done
            if why is not None:
                reason = why
                break
            continue
        test = test_message(msg, i, remaining)
        try:
            result = run_test(test, compiled)
        except OSError as e:
            report_out_of_resources(chan, i, e)
            reason = 'error'
            break
        chan.send(result)
        i += 1
        why = stop_reason(chan, result, test, msg.get('all_results'))
        if why:
            reason = why
            break
    # The worker's own heap (anonymous RSS): the parent replaces a worker that has grown.
    chan.send({'op': 'done', 'next': i, 'reason': reason, 'rss_kb': anon_rss_kb()})


APPS_MAIN = '__apps_main__'


def as_function_body(code):
    """The program as the APPS harness runs a stdin/stdout program: its leading imports at the top
    level, everything else the body of a function that is called once, so a `return` at the top
    level ends the program. Line numbers are kept (tracebacks point at the program's lines)."""
    import ast
    tree = ast.parse(code, child.SOLUTION_FILE)
    k = 0
    while k < len(tree.body) and isinstance(tree.body[k], (ast.Import, ast.ImportFrom)):
        k += 1
    head, body = tree.body[:k], tree.body[k:]
    frame = ast.parse('def %s():\n    pass\n%s()\n' % (APPS_MAIN, APPS_MAIN))
    fn, call = frame.body
    fn.body = body or fn.body
    anchor = (body or head or [fn])[0]
    for node in (fn, call):
        ast.copy_location(node, anchor)
    tree.body = head + [fn, call]
    ast.fix_missing_locations(tree)
    return compile(tree, child.SOLUTION_FILE, 'exec', dont_inherit=True)


def load(code, tests=None):
    try:
        compiled = compile(code, child.SOLUTION_FILE, 'exec', dont_inherit=True)
    except SyntaxError as e:
        compiled = None
        # A stdin/stdout program that ends itself with a top-level `return` is valid for the APPS
        # harness, which runs every such program as a function body: run it that way too.
        if e.msg == "'return' outside function" and tests and all(t.get('kind') == 'stdio' for t in tests):
            try:
                compiled = as_function_body(code)
            except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
                compiled = None
        if compiled is None:
            return None, {'op': 'loaded', 'ok': False, 'error': '%s: %s' % (type(e).__name__, e.msg), 'line': e.lineno,
                          'offset': e.offset, 'text': (e.text or '')[:500]}
        child.remember_source(code)
        return compiled, {'op': 'loaded', 'ok': True, 'note': 'run as the body of a function, as the APPS harness runs stdin programs (a return at the top level)'}
    except (ValueError, MemoryError, RecursionError, OverflowError) as e:
        return None, {'op': 'loaded', 'ok': False, 'error': '%s: %s' % (type(e).__name__, e), 'line': None}
    child.remember_source(code)
    return compiled, {'op': 'loaded', 'ok': True}


def main():
    global WORK_ROOT, WORK_DIR, ISOLATED
    if len(sys.argv) >= 3 and sys.argv[1] == '--workdir':
        ISOLATED = False
        # A folder of its own under the engine's: the engine's workers run at the same time, and
        # each empties its work folder between tests.
        import tempfile
        WORK_ROOT = tempfile.mkdtemp(prefix='worker-', dir=sys.argv[2])
        WORK_DIR = os.path.join(WORK_ROOT, 'w')
    # The control channel moves to a high close-on-exec fd; 0/1 point to /dev/null; nothing else
    # inherited stays open (bubblewrap passes on what it was given, e.g. bwrap-root's namespace).
    chan_fd = high_fd(CHANNEL_FD)
    chan = Channel(chan_fd, chan_fd)
    os.closerange(3, chan_fd)
    os.closerange(chan_fd + 1, max(os.sysconf('SC_OPEN_MAX'), chan_fd + 1))
    null = os.open('/dev/null', os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # Children (same uid) must not ptrace us or open our fds through /proc; orphans come to us.
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    child.warm_up()
    fresh_workdir()
    gc.freeze() if hasattr(gc, 'freeze') else None
    chan.send({'op': 'ready', 'pid': os.getpid(), 'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),
               'python': sys.version.split()[0], 'nproc': resource.getrlimit(resource.RLIMIT_NPROC)[0],
               'netifs': network_interfaces(), 'dumpable': prctl(PR_GET_DUMPABLE, 0), 'capeff': effective_caps()})
    compiled = None
    while True:
        try:
            msg = chan.recv()
        except (OSError, ValueError) as e:
            sys.stderr.write('worker: bad control message: %s\n' % e)
            return 3
        if msg is None or msg.get('op') == 'exit':
            return 0
        op = msg.get('op')
        if op == 'run':
            if 'code' in msg:
                compiled, reply = load(msg['code'], msg.get('tests'))
                chan.send(reply)
                if compiled is None:
                    continue
            elif compiled is None:
                chan.send({'op': 'error', 'error': 'run before a successful load', 'recycle': True})
                continue
            run_batch(chan, msg, compiled)
        elif op == 'stop':
            continue  # arrived after its run had ended anyway
        else:
            chan.send({'op': 'error', 'error': 'unknown op %r' % op, 'recycle': True})


if __name__ == '__main__':
    sys.exit(main())

# The naive baseline of scripts/bench/exec-throughput.mjs: what the human-eval and APPS harnesses
# do, one fresh python3 per candidate, every test run in that process with exec(), stdin/stdout
# swapped for StringIO and signal.alarm as the clock. No isolation at all (trusted input only).
# Reads one candidate {"code", "tests"} as JSON on stdin; prints {"verdict": ...} on stdout.
import io
import json
import signal
import sys


class Timeout(Exception):
    pass


def on_alarm(_signum, _frame):
    raise Timeout()


def run_test(code, test, timeout_s):
    real_stdin, real_stdout = sys.stdin, sys.stdout
    out = io.StringIO()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        if test['kind'] == 'stdio':
            sys.stdin, sys.stdout = io.StringIO(test['input'] or ''), out
            exec(compile(code, '<solution>', 'exec'), {'__name__': '__main__'})
        else:
            ns = {'__name__': 'solution'}
            exec(compile(code + '\n' + test['code'] + '\ncheck(%s)\n' % test['fn_name'], '<solution>', 'exec'), ns)
    except SyntaxError:
        return 'compile_error'
    except Timeout:
        return 'timeout'
    except AssertionError:
        return 'wrong_answer'
    except MemoryError:
        return 'memory_limit'
    except BaseException:  # noqa: BLE001
        return 'runtime_error'
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdin, sys.stdout = real_stdin, real_stdout
    if test['kind'] == 'stdio':
        got = [l.rstrip() for l in out.getvalue().rstrip().split('\n')]
        want = [l.rstrip() for l in (test['expected'] or '').rstrip().split('\n')]
        return 'pass' if got == want else 'wrong_answer'
    return 'pass'


def main():
    cand = json.load(sys.stdin)
    verdict = 'pass'
    for test in cand['tests']:
        verdict = run_test(cand['code'], test, cand.get('timeout_s', 5))
        if verdict != 'pass':
            break
    sys.stdout.write(json.dumps({'verdict': verdict}) + '\n')


main()

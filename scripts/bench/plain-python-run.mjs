// The verdict a plain, unisolated `python3 -c PROGRAM` run gives: the reference the sandbox's
// verdicts are compared with (test/integration/exec/agreement.test.ts and
// scripts/bench/exec-agreement.mjs). A sentinel printed after the program means pass; otherwise
// the wall clock or the last exception line decides.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SENTINEL = '__plain_run_finished__';

/** @returns {Promise<'pass'|'timeout'|'compile_error'|'wrong_answer'|'memory_limit'|'runtime_error'>} */
export function plainRun(program, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-c', `${program}\nprint(${JSON.stringify(SENTINEL)})`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = err.trim().split('\n').pop() ?? '';
      if (timedOut) resolve('timeout');
      else if (code === 0 && out.includes(SENTINEL)) resolve('pass');
      else if (/^(SyntaxError|IndentationError|TabError)\b/.test(last)) resolve('compile_error');
      else if (/^AssertionError\b/.test(last)) resolve('wrong_answer');
      else if (/^MemoryError\b/.test(last)) resolve('memory_limit');
      else resolve('runtime_error');
    });
  });
}

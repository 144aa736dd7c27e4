// `pairforge sample` as a user runs it (the bundled CLI, the local vLLM stand-in as its own
// process): kill -9 the sampler mid-job, run the same command again, and the job's samples are
// exactly the expected set with exactly the texts of an uninterrupted run with the same seed;
// kill -9 the server mid-job, the sampler stops with a resume hint, and --resume finishes it.
// Also: the JSON summary, `stats --json` "samples", usage errors and an unreachable endpoint.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnLocalVllm, type LocalVllmProcess } from '../../../server/localvllm';
import { buildCli, runCli } from '../../support/cliHarness';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let cli: string;
let dir: string;
let db: string;
let srv: LocalVllmProcess;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-sampling-kill-'));
  db = path.join(dir, 'project.sqlite');
  expect(runCli(cli, ['import', '--db', db, ...['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map((f) => path.join(FIXTURES, f))]).status).toBe(0);
  expect(runCli(cli, ['targets', '--db', db]).status).toBe(0);
  srv = await spawnLocalVllm({ cli, db, latencyMs: 40 });
}, 90_000);
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

const count = (sql: string, ...args: unknown[]): number => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare(sql).get(...args) as { n: number }).n;
  } finally {
    d.close();
  }
};
const rows = (job: number): { k: string; raw: string; middle: string }[] => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare("SELECT target_id || ':' || sample_index AS k, raw, middle FROM samples WHERE job_id = ? ORDER BY target_id, sample_index").all(job) as { k: string; raw: string; middle: string }[]);
  } finally {
    d.close();
  }
};

/** Starts the sampler, waits until `atLeast` samples are stored, then kill -9s it. */
function killMidway(args: string[], job: number, atLeast: number): Promise<void> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      let n = 0;
      try {
        n = count('SELECT COUNT(*) AS n FROM samples WHERE job_id = ?', job);
      } catch {
        return; // schema not there yet
      }
      if (n >= atLeast) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the sampler exited (${code}) before it was killed`));
    });
  });
}

describe('pairforge sample', () => {
  it('kill -9 mid-job, then the same command: exactly the expected samples, same texts as an uninterrupted run', async () => {
    const targets = count("SELECT COUNT(*) AS n FROM targets WHERE preset = 'structurecoder'");
    const n = 4;
    const base = ['sample', '--db', db, '--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--n', String(n), '--seed', '7', '--concurrency', '3', '--max-tokens', '128'];
    await killMidway(base, 1, 8);
    const afterFirst = count('SELECT COUNT(*) AS n FROM samples WHERE job_id = 1');
    expect(afterFirst).toBeGreaterThanOrEqual(8);
    expect(afterFirst).toBeLessThan(targets * n);
    await killMidway(base, 1, afterFirst + 8);
    expect(count("SELECT COUNT(*) AS n FROM sample_jobs WHERE status = 'running'")).toBe(1);

    const beforeRerun = count('SELECT COUNT(*) AS n FROM samples WHERE job_id = 1');
    const again = runCli(cli, [...base, '--json']);
    expect(again.stderr).toMatch(/continuing sample job 1/);
    expect(again.status).toBe(0);
    const s = JSON.parse(again.stdout) as { jobId: number; status: string; resumed: boolean; samples: number; expected: number; produced: number };
    expect(s).toMatchObject({ jobId: 1, status: 'done', resumed: true, samples: targets * n, expected: targets * n });
    expect(s.produced).toBe(targets * n - beforeRerun);
    expect(count('SELECT COUNT(*) AS n FROM sample_jobs')).toBe(1);

    // an uninterrupted run with the same seed: the same texts for the same (target, index)
    const ref = runCli(cli, [...base, '--new', '--json']);
    expect(ref.status).toBe(0);
    const r = JSON.parse(ref.stdout) as { jobId: number };
    expect(r.jobId).toBe(2);
    const killed = rows(1);
    expect(killed.length).toBe(targets * n);
    expect(new Set(killed.map((x) => x.k)).size).toBe(targets * n);
    expect(killed).toEqual(rows(2));

    const stats = runCli(cli, ['stats', '--db', db, '--json']);
    expect(JSON.parse(stats.stdout).samples).toBe(2 * targets * n);
  }, 120_000);

  it('a server killed mid-job: the sampler stops with a resume hint; --resume finishes the job', async () => {
    const port = srv.port;
    const base = ['sample', '--db', db, '--endpoint', srv.url, '--model', srv.model, '--family', 'starcoder2', '--n', '2', '--concurrency', '2', '--down-wait-ms', '1000', '--retries', '2'];
    const child = spawn(process.execPath, [cli, ...base, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const job = 3;
    for (let i = 0; i < 500; i++) {
      await new Promise((res) => setTimeout(res, 20));
      try {
        if (count('SELECT COUNT(*) AS n FROM samples WHERE job_id = ?', job) >= 4) break;
      } catch {
        // not yet
      }
    }
    await srv.kill();
    const code = await exited;
    expect(code).toBe(1);
    const s = JSON.parse(stdout) as { status: string; jobId: number; samples: number; expected: number; message: string };
    expect(s).toMatchObject({ status: 'stopped', jobId: job });
    expect(s.samples).toBeLessThan(s.expected);
    expect(stderr).toMatch(new RegExp(`resume with: pairforge sample --db .* --resume ${job}`));

    srv = await spawnLocalVllm({ cli, db, latencyMs: 5, port });
    const resumed = runCli(cli, ['sample', '--db', db, '--resume', String(job), '--json']);
    expect(resumed.status).toBe(0);
    const r = JSON.parse(resumed.stdout) as { status: string; samples: number; expected: number; family: string; produced: number };
    expect(r).toMatchObject({ status: 'done', family: 'starcoder2', samples: s.expected, produced: s.expected - s.samples });
    expect(count('SELECT COUNT(DISTINCT target_id * 100 + sample_index) AS n FROM samples WHERE job_id = ?', job)).toBe(s.expected);
  }, 120_000);

  it('rejects bad usage with status 2 and names what is wrong', () => {
    const bad = (args: string[], re: RegExp) => {
      const r = runCli(cli, ['sample', '--db', db, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
    };
    bad(['--model', 'm', '--family', 'qwen2.5-coder'], /--endpoint URL is required/);
    bad(['--endpoint', srv.url, '--family', 'qwen2.5-coder'], /--model NAME is required/);
    bad(['--endpoint', srv.url, '--model', 'm'], /--family is required/);
    bad(['--endpoint', srv.url, '--model', 'm', '--family', 'gpt'], /--family must be one of/);
    bad(['--endpoint', srv.url, '--model', 'm', '--family', 'custom'], /needs --custom-tokens/);
    bad(['--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--n', 'five'], /--n must be an integer/);
    bad(['--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--top-p', '0'], /--top-p must be a number from 0.01 to 1 \(got '0'\)/);
    bad(['--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--preset', 'nope'], /no targets under preset 'nope' \(the project has \d+ under 'structurecoder'\)/);
    bad(['--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--dataset', 'nope'], /no dataset 'nope' in .*there are: apps-mini, humaneval-mini, mbpp-mini/);
    bad(['--endpoint', 'http://127.0.0.1:9', '--model', 'm', '--family', 'qwen2.5-coder'], /no usable endpoint: http:\/\/127\.0\.0\.1:9 \(m\): unreachable/);
    bad(['--resume', '99'], /sample job 99: no such job/);
    bad(['--endpoint', srv.url, '--model', srv.model, '--family', 'qwen2.5-coder', '--api-key-env', 'PAIRFORGE_TEST_UNSET_KEY'], /--api-key-env PAIRFORGE_TEST_UNSET_KEY: the environment variable is not set/);
    bad(['--bogus'], /unknown option --bogus/);
    const help = runCli(cli, ['sample', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/PAIRFORGE_API_KEY/);
  }, 60_000);
});

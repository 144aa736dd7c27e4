// `pairforge score` and `pairforge rewards` as a user runs them (the bundled CLI, the local vLLM
// stand-in as its own process): kill -9 the scorer mid-run, run the same command again, and each
// missing side is scored exactly once, with exactly the values of an uninterrupted run; kill -9
// the server mid-run, the scorer stops saying how to continue, and the same command finishes.
// Also: rewards --json, --runs, --margins, stats, and usage errors (tokenizer mismatch included).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, spawnLocalVllm, type LocalVllmProcess } from '../../../server/localvllm';
import { buildCli, runCli } from '../../support/cliHarness';
import { buildScoringProject } from '../../support/scoringProject';

let cli: string;
let dir: string;
let db: string;
let pairs: number;
let srv: LocalVllmProcess;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-scoring-kill-'));
  db = path.join(dir, 'project.sqlite');
  pairs = await buildScoringProject(db);
  srv = await spawnLocalVllm({ cli, db, latencyMs: 40 });
}, 120_000);
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

const query = <T>(sql: string, ...args: unknown[]): T[] => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...args) as T[];
  } finally {
    d.close();
  }
};
const count = (sql: string, ...args: unknown[]): number => query<{ n: number }>(sql, ...args)[0].n;
const sides = (run: number) =>
  query<Record<string, unknown>>(
    'SELECT pair_id, side, token_ids, char_ranges, loss_mask, logp_policy, logp_ref, masked_reward_sum, reward_sum FROM score_sides WHERE run_id = ? ORDER BY pair_id, side',
    run,
  );
const base = () => ['score', '--db', db, '--policy', srv.url, '--policy-model', POLICY_MODEL_NAME, '--reference', srv.url, '--reference-model', REFERENCE_MODEL_NAME, '--concurrency', '2'];

/** Starts the scorer, waits until `atLeast` sides of `run` are stored, then kill -9s it. */
function killMidway(args: string[], run: number, atLeast: number): Promise<void> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      let n = 0;
      try {
        n = count('SELECT COUNT(*) AS n FROM score_sides WHERE run_id = ?', run);
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
      else reject(new Error(`the scorer exited (${code}) before it was killed`));
    });
  });
}

describe('pairforge score', () => {
  it('kill -9 mid-run twice, then the same command: each missing side scored once, values as an uninterrupted run', async () => {
    await killMidway(base(), 1, 6);
    const afterFirst = count('SELECT COUNT(*) AS n FROM score_sides WHERE run_id = 1');
    expect(afterFirst).toBeGreaterThanOrEqual(6);
    expect(afterFirst).toBeLessThan(2 * pairs);
    await killMidway(base(), 1, afterFirst + 6);
    expect(count("SELECT COUNT(*) AS n FROM score_runs WHERE status = 'running'")).toBe(1);
    const before = count('SELECT COUNT(*) AS n FROM score_sides WHERE run_id = 1');

    const again = runCli(cli, [...base(), '--json']);
    expect(again.stderr).toMatch(/continuing scoring run 1/);
    expect(again.status).toBe(0);
    const s = JSON.parse(again.stdout) as { runId: number; status: string; resumed: boolean; sides: number; produced: number; scoredPairs: number; pairs: number };
    expect(s).toMatchObject({ runId: 1, status: 'done', resumed: true, sides: 2 * pairs, scoredPairs: pairs, pairs });
    expect(s.produced).toBe(2 * pairs - before);
    expect(count('SELECT COUNT(*) AS n FROM score_runs')).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM pair_scores WHERE run_id = 1')).toBe(pairs);

    // an uninterrupted run with the same options: the same arrays and sums for every side
    const ref = runCli(cli, [...base(), '--new', '--json']);
    expect(ref.status).toBe(0);
    expect(JSON.parse(ref.stdout).runId).toBe(2);
    const killed = sides(1);
    expect(killed).toHaveLength(2 * pairs);
    expect(killed).toEqual(sides(2));
    expect(query('SELECT pair_id, margin, prefers_chosen FROM pair_scores WHERE run_id = 1 ORDER BY pair_id')).toEqual(
      query('SELECT pair_id, margin, prefers_chosen FROM pair_scores WHERE run_id = 2 ORDER BY pair_id'),
    );
  }, 180_000);

  it('rewards --json prints one pair’s tokens; --runs and --margins list; stats counts scored pairs', () => {
    const r = runCli(cli, ['rewards', '--db', db, '--pair', '1', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['pair', 'run', 'beta', 'margin', 'sides']);
    expect(j).toMatchObject({ pair: 1, run: 2, beta: 0.1 });
    expect(typeof j.margin).toBe('number');
    for (const side of ['chosen', 'rejected']) {
      const s = j.sides[side];
      expect(s.tokens.length).toBeGreaterThan(0);
      expect(Object.keys(s.tokens[0])).toEqual(['text', 'start', 'end', 'logp_policy', 'logp_ref', 'reward', 'in_loss']);
      expect(s.masked_reward_sum).toBeCloseTo(s.tokens.filter((t: { in_loss: boolean }) => t.in_loss).reduce((a: number, t: { reward: number }) => a + t.reward, 0), 6);
    }
    expect(j.margin).toBeCloseTo(j.sides.chosen.masked_reward_sum - j.sides.rejected.masked_reward_sum, 9);
    const run1 = JSON.parse(runCli(cli, ['rewards', '--db', db, '--pair', '1', '--run', '1', '--json']).stdout);
    expect(run1.sides).toEqual(j.sides);
    const human = runCli(cli, ['rewards', '--db', db, '--pair', '1']);
    expect(human.stdout).toMatch(/^pair 1, run 2, beta 0\.1: margin -?\d+\.\d{4}\n {2}chosen \(fim\): reward/);
    const runs = runCli(cli, ['rewards', '--db', db, '--runs']);
    expect(runs.stdout).toMatch(/run 2: done, policy pairforge-local-policy, reference pairforge-local-reference, beta 0\.1, fim\/qwen2\.5-coder: \d+\/\d+ pairs scored/);
    const margins = JSON.parse(runCli(cli, ['rewards', '--db', db, '--margins', 'asc', '--limit', '3', '--json']).stdout);
    expect(margins.run).toBe(2);
    expect(margins.pairs).toHaveLength(3);
    expect(margins.pairs[0].margin).toBeLessThanOrEqual(margins.pairs[2].margin);
    const stats = JSON.parse(runCli(cli, ['stats', '--db', db, '--json']).stdout);
    expect(stats.scoredPairs).toBe(pairs);
    const unscored = runCli(cli, ['rewards', '--db', db, '--pair', '99999']);
    expect(unscored.status).toBe(1);
    expect(unscored.stderr).toMatch(/no pair 99999/);
  });

  it('a server killed mid-run: the scorer stops saying how to continue; the same command finishes', async () => {
    const port = srv.port;
    const args = [...base(), '--beta', '0.2', '--down-wait-ms', '1000', '--retries', '2'];
    const child = spawn(process.execPath, [cli, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 500; i++) {
      await new Promise((res) => setTimeout(res, 20));
      try {
        if (count('SELECT COUNT(*) AS n FROM score_sides WHERE run_id = 3') >= 4) break;
      } catch {
        // not yet
      }
    }
    await srv.kill();
    const code = await exited;
    expect(code).toBe(1);
    const s = JSON.parse(stdout) as { status: string; runId: number; sides: number };
    expect(s).toMatchObject({ status: 'stopped', runId: 3 });
    expect(s.sides).toBeLessThan(2 * pairs);
    expect(stderr).toMatch(/run the same pairforge score command again to continue run 3/);

    srv = await spawnLocalVllm({ cli, db, latencyMs: 5, port });
    const again = runCli(cli, [...args, '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: 3, status: 'done', sides: 2 * pairs, produced: 2 * pairs - s.sides });
  }, 120_000);

  it('rejects bad usage and mismatched tokenizers with status 2 and says what is wrong', async () => {
    const bad = (args: string[], re: RegExp) => {
      const r = runCli(cli, ['score', '--db', db, ...args]);
      expect([args.join(' '), r.status]).toEqual([args.join(' '), 2]);
      expect(r.stderr).toMatch(re);
    };
    bad(['--reference', srv.url], /--policy URL is required/);
    bad(['--policy', srv.url, '--policy-model', 'm'], /--reference URL is required/);
    bad(['--policy', srv.url, '--reference', srv.url], /serves several models \(pairforge-local-vllm, pairforge-local-policy, pairforge-local-reference\): pass --policy-model/);
    const ok = ['--policy', srv.url, '--policy-model', POLICY_MODEL_NAME, '--reference', srv.url, '--reference-model', REFERENCE_MODEL_NAME];
    bad([...ok, '--top-k', '21'], /--top-k must be an integer from 0 to 20/);
    bad([...ok, '--beta', '0'], /--beta must be a number from 0.0001 to 100/);
    bad([...ok, '--pairs', 'best'], /--pairs must be accepted, pending, all or a list of pair ids/);
    bad([...ok, '--pairs', '99999'], /no such pair: 99999/);
    bad([...ok, '--pairs', 'accepted'], /no accepted pairs to score/);
    bad([...ok, '--format', 'xml'], /--format must be one of fim, chat/);
    bad([...ok, '--resume', '--new'], /--resume and --new contradict/);
    bad(['--policy', 'http://127.0.0.1:9', '--policy-model', 'm', '--reference', srv.url, '--reference-model', REFERENCE_MODEL_NAME], /no usable policy endpoint: http:\/\/127\.0\.0\.1:9 \(m\): unreachable/);
    const other = await spawnLocalVllm({ cli, db, tokenizer: 'chars' });
    try {
      bad(['--policy', srv.url, '--policy-model', POLICY_MODEL_NAME, '--reference', other.url, '--reference-model', REFERENCE_MODEL_NAME], /tokenize differently .*per-token rewards across different tokenizers mean nothing/);
    } finally {
      await other.close();
    }
    const help = runCli(cli, ['score', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/prompt_logprobs/);
    const rw = runCli(cli, ['rewards', '--db', db]);
    expect(rw.status).toBe(2);
    expect(rw.stderr).toMatch(/exactly one of --pair ID, --runs, --margins/);
  }, 120_000);
});

// `pairforge pairs` killed with SIGKILL mid-run, then run again: the pairs are exactly those of
// an uninterrupted run (nothing lost, nothing duplicated).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../../server/protocol';
import { openProject } from '../../../server/store/db';
import { buildCli, runCli } from '../../support/cliHarness';
import { addDataset, addExecutions, addProblem, addSample, addSampleJob, addSolution, addTarget, type ExecutionSpec } from '../../support/fixtures';
import { fixturePath } from '../../support/paths';

const TARGETS = 4000;
let cli: string;
let dir: string;

/** A project of TARGETS targets, each with one wrong and two passing samples and their verdicts. */
function makeProject(file: string): void {
  const p = openProject(file);
  try {
    p.db.transaction(() => {
      const datasetId = addDataset(p, { name: 'big' });
      const jobId = addSampleJob(p);
      const verdicts: ExecutionSpec[] = [];
      for (let i = 1; i <= TARGETS; i++) {
        const pre = `n = int(input())  # ${i}\ns = 0\n`;
        const mid = `for k in range(n):\n    s += k * ${i}`;
        const suf = '\nprint(s)';
        const problemId = addProblem(p, { datasetId, question: `Problem ${i}` });
        const targetId = addTarget(p, { solutionId: addSolution(p, { problemId, code: pre + mid + suf }), pre, mid, suf });
        const samples: [string, Verdict][] = [
          [`for k in range(n + 1):\n    s += k * ${i}`, 'wrong_answer'],
          [`for k in range(n):\n    s = s + k * ${i}`, 'pass'],
          [mid, 'pass'],
        ];
        for (const [middle, verdict] of samples) verdicts.push({ kind: 'sample', id: addSample(p, { jobId, targetId, middle }), verdict });
      }
      addExecutions(p, verdicts);
    })();
  } finally {
    p.close();
  }
}

function pairsOf(file: string): string[] {
  const p = openProject(file, { readonly: true });
  try {
    return p.db.prepare<[], { k: string }>('SELECT pair_key || chosen || rejected || chosen_loss_spans || flags AS k FROM pairs ORDER BY pair_key').all().map((r) => r.k);
  } finally {
    p.close();
  }
}

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-pairs-kill-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

const FIXTURES = fixturePath('pipeline');
const DATASETS = [path.join(FIXTURES, 'mini-apps.jsonl'), path.join(FIXTURES, 'mini-history.jsonl')].join(',');

/** What a run leaves in a project, minus what differs between two runs by design (the local
 * server's port in provenance, timestamps). */
function outcome(file: string): { samples: string[]; verdicts: string[]; pairs: string[] } {
  const p = openProject(file, { readonly: true });
  try {
    return {
      samples: p.db.prepare<[], { k: string }>("SELECT job_id || ':' || target_id || ':' || sample_index || ':' || middle AS k FROM samples ORDER BY job_id, target_id, sample_index").all().map((r) => r.k),
      verdicts: p.db.prepare<[], { k: string }>("SELECT candidate_kind || ':' || candidate_id || ':' || attempt || ':' || verdict AS k FROM executions ORDER BY candidate_kind, candidate_id, attempt").all().map((r) => r.k),
      pairs: p.db.prepare<[], { k: string }>("SELECT pair_key || chosen || rejected || chosen_loss_spans || rejected_loss_spans || flags AS k FROM pairs ORDER BY pair_key").all().map((r) => r.k),
    };
  } finally {
    p.close();
  }
}

async function countOf(file: string, sql: string): Promise<number> {
  try {
    const p = openProject(file, { readonly: true });
    try {
      return p.db.prepare<[], { n: number }>(sql).get()!.n;
    } finally {
      p.close();
    }
  } catch {
    return 0; // not created / migrated yet
  }
}

describe('pairforge run under kill -9', () => {
  it('killed during exec, then run again: the same samples, verdicts and pairs as an uninterrupted run', async () => {
    const clean = path.join(dir, 'run-clean.sqlite');
    const full = runCli(cli, ['run', '--db', clean, '--dataset', DATASETS, '--endpoint', 'local', '--workers', '1', '--json']);
    expect(full.status, full.stderr).toBe(0);
    const killed = path.join(dir, 'run-killed.sqlite');
    const child = spawn(process.execPath, [cli, 'run', '--db', killed, '--dataset', DATASETS, '--endpoint', 'local', '--workers', '1', '--json'], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    let verdicts = 0;
    while (Date.now() < deadline && verdicts === 0) {
      await new Promise((r) => setTimeout(r, 25));
      verdicts = await countOf(killed, "SELECT COUNT(*) AS n FROM executions WHERE candidate_kind = 'sample'");
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(verdicts).toBeGreaterThan(0);
    expect(await countOf(killed, 'SELECT COUNT(*) AS n FROM pairs')).toBe(0);
    const resumed = runCli(cli, ['run', '--db', killed, '--dataset', DATASETS, '--endpoint', 'local', '--workers', '1', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(outcome(killed)).toEqual(outcome(clean));
  }, 180_000);
});

describe('pairs under kill -9', () => {
  it('a killed run finished by a re-run equals an uninterrupted run', async () => {
    const clean = path.join(dir, 'clean.sqlite');
    makeProject(clean);
    const killed = path.join(dir, 'killed.sqlite');
    copyFileSync(clean, killed);
    const t0 = performance.now();
    const full = runCli(cli, ['pairs', '--db', clean, '--mode', 'structurecoder', '--json']);
    const fullMs = performance.now() - t0;
    expect(full.status, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({ pairs: TARGETS, inserted: TARGETS });

    // Kill once some chunks are in (polling the file through a reader), well before the end.
    const child = spawn(process.execPath, [cli, 'pairs', '--db', killed, '--mode', 'structurecoder', '--json'], { stdio: 'ignore' });
    let seen = 0;
    const deadline = Date.now() + fullMs * 3 + 10_000;
    while (Date.now() < deadline && seen === 0) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        const p = openProject(killed, { readonly: true });
        try {
          seen = p.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pairs').get()!.n;
        } finally {
          p.close();
        }
      } catch {
        // the writer holds the schema lock for a moment at start
      }
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(seen).toBeGreaterThan(0);
    const partial = pairsOf(killed).length;
    expect(partial).toBeLessThan(TARGETS);
    expect(partial % 200).toBe(0); // whole chunks only

    const resumed = runCli(cli, ['pairs', '--db', killed, '--mode', 'structurecoder', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ pairs: TARGETS, inserted: TARGETS - partial, unchanged: partial });
    expect(pairsOf(killed)).toEqual(pairsOf(clean));
  }, 120_000);
});

// The sampling job against the project's local vLLM stand-in (server/localvllm, real HTTP,
// in-process): with 500s, connection resets and cut-off JSON on, every (target, index) is stored
// exactly once and each sample is the same text a fault-free run with the same seed produces;
// context-length 400s skip the target with the reason; 401/404 stop the job with a clear message;
// a server that restarts is waited for; one that stays away stops the job, which then resumes to
// exactly the expected set; two endpoints share the load within their concurrency limits; the API
// key is never stored.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../../server/import/importer';
import { startLocalVllm, type LocalVllm } from '../../../server/localvllm';
import { runSampleJob, sampleTargets, seedFor, type SampleSpec } from '../../../server/sampling/job';
import { buildFimPrompt, startOf } from '../../../server/sampling/prompts';
import { openProject, type Project } from '../../../server/store/db';
import { cutAllTargets } from '../../../server/targets/cutAll';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let dir: string;
let dbFile: string;
let p: Project;
let targetIds: number[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-sampling-faults-'));
  dbFile = path.join(dir, 'project.sqlite');
  p = openProject(dbFile);
  await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
  await cutAllTargets(p, { preset: 'structurecoder' });
  targetIds = p.db.prepare<[], { id: number }>("SELECT id FROM targets WHERE preset = 'structurecoder' ORDER BY id").all().map((r) => r.id);
}, 60_000);
afterAll(() => {
  p?.close();
  rmSync(dir, { recursive: true, force: true });
});

const fast = { retryBaseMs: 5, retryCapMs: 50, probeMs: 50 };
const spec = (srv: { url: string; model: string }, extra: Partial<SampleSpec> = {}): SampleSpec => ({
  family: 'qwen2.5-coder',
  endpoints: [{ url: srv.url, model: srv.model }],
  selection: { preset: 'structurecoder' },
  n: 3,
  maxTokens: 128,
  concurrency: 8,
  ...fast,
  ...extra,
});

interface SampleRow {
  target_id: number;
  sample_index: number;
  raw: string;
  middle: string;
  seed: number;
}
const rowsOf = (job: number) =>
  p.db.prepare<[number], SampleRow>('SELECT target_id, sample_index, raw, middle, seed FROM samples WHERE job_id = ? ORDER BY target_id, sample_index').all(job);
const keysOf = (rows: SampleRow[]) => rows.map((r) => `${r.target_id}:${r.sample_index}`);
const expectedKeys = (ids: number[], n: number) => ids.flatMap((t) => Array.from({ length: n }, (_, i) => `${t}:${i}`));

describe('sampling against the local vLLM stand-in', () => {
  let clean: SampleRow[];

  it('samples every target n times; stores raw text, the post-processed middle and the seed', async () => {
    const srv = await startLocalVllm({ db: dbFile, latencyMs: 2 });
    try {
      expect(targetIds.length).toBeGreaterThan(10);
      const s = await runSampleJob(p, spec(srv, { seed: 11 }));
      expect(s).toMatchObject({ status: 'done', targets: targetIds.length, n: 3, expected: targetIds.length * 3, samples: targetIds.length * 3, produced: targetIds.length * 3, failed: 0, retries: 0 });
      expect(s.endpoints[0]).toMatchObject({ ok: true, served: srv.models, maxModelLen: srv.maxModelLen });
      clean = rowsOf(s.jobId);
      expect(keysOf(clean)).toEqual(expectedKeys(targetIds, 3));
      const mid = new Map(p.db.prepare<[], { id: number; mid: string }>('SELECT id, mid FROM targets').all().map((r) => [r.id, r.mid]));
      for (const r of clean) {
        expect(r.seed).toBe(seedFor(11, r.target_id, r.sample_index));
        expect(r.middle.startsWith(startOf(mid.get(r.target_id)!))).toBe(true);
      }
      // the local model returns the reference among its candidates: some middles are the golden one
      expect(clean.filter((r) => r.middle === mid.get(r.target_id)).length).toBeGreaterThan(0);
      const job = p.db.prepare<[number], { status: string; params: string; endpoints: string; family: string }>('SELECT status, params, endpoints, family FROM sample_jobs WHERE id = ?').get(s.jobId)!;
      expect(job.status).toBe('done');
      expect(JSON.parse(job.params)).toEqual({ n: 3, temperature: 0.7, topP: 0.95, maxTokens: 128, seed: 11 });
      expect(JSON.parse(job.endpoints)).toEqual([{ url: srv.url, model: srv.model }]);
      const one = p.db.prepare<[], { params: string; endpoint: string; model: string; finish_reason: string; latency_ms: number; attempts: number }>('SELECT params, endpoint, model, finish_reason, latency_ms, attempts FROM samples LIMIT 1').get()!;
      expect(JSON.parse(one.params)).toMatchObject({ family: 'qwen2.5-coder', n: 1, temperature: 0.7, top_p: 0.95, max_tokens: 128, top_k: -1, repetition_penalty: 1, skip_special_tokens: false });
      expect(one).toMatchObject({ endpoint: srv.url, model: srv.model, attempts: 1 });
      expect(['stop', 'length']).toContain(one.finish_reason);
      // the same command again continues the finished job only when asked to ('any'): nothing new
      const again = await runSampleJob(p, spec(srv, { seed: 11 }), { reuse: 'any' });
      expect(again).toMatchObject({ jobId: s.jobId, resumed: true, produced: 0, requests: 0, status: 'done' });
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('samples with every family the local server reads (FIM families and chat)', async () => {
    const srv = await startLocalVllm({ db: dbFile });
    try {
      const mid = new Map(p.db.prepare<[], { id: number; mid: string }>('SELECT id, mid FROM targets').all().map((r) => [r.id, r.mid]));
      for (const family of ['deepseek-coder', 'starcoder2', 'codellama', 'chat'] as const) {
        const s = await runSampleJob(p, spec(srv, { family, n: 1 }));
        expect([family, s.status, s.samples]).toEqual([family, 'done', targetIds.length]);
        const rows = rowsOf(s.jobId);
        for (const r of rows) expect(r.middle.startsWith(startOf(mid.get(r.target_id)!))).toBe(true);
        // the stand-in fills a FIM block from the reference, so some middles are the golden one (for a
        // block in chat format it falls back to its n-gram model: only the shape is checked there)
        if (family !== 'chat') expect([family, rows.some((r) => r.middle === mid.get(r.target_id))]).toEqual([family, true]);
        expect(JSON.parse(p.db.prepare<[number], { params: string }>('SELECT params FROM samples WHERE job_id = ? LIMIT 1').get(s.jobId)!.params).family).toBe(family);
      }
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('with 500s, resets and cut-off JSON on, loses and duplicates nothing and gets the same texts', async () => {
    const srv = await startLocalVllm({ db: dbFile, latencyMs: 2, faults: { error500: 0.15, reset: 0.1, malformed: 0.1, seed: 5 } });
    try {
      const s = await runSampleJob(p, spec(srv, { seed: 11, maxRetries: 8 }));
      expect(s.status).toBe('done');
      expect(s.retries).toBeGreaterThan(5);
      const st = srv.stats();
      expect(st.faults['500'] + st.faults.reset + st.faults.malformed).toBeGreaterThan(5);
      const rows = rowsOf(s.jobId);
      expect(keysOf(rows)).toEqual(expectedKeys(targetIds, 3));
      expect(rows.map((r) => [r.raw, r.middle, r.seed])).toEqual(clean.map((r) => [r.raw, r.middle, r.seed]));
      expect(p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM samples WHERE job_id = ? AND attempts > 1').get(s.jobId)!.n).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('skips targets whose prompt exceeds the context length, with the reason', async () => {
    // a context that fits about half of the prompts (token counts from the server's /tokenize)
    const probe = await startLocalVllm({ db: dbFile });
    const q = p.db.prepare<[number], { question: string; pre: string; mid: string; suf: string }>(
      'SELECT pr.question, t.pre, t.mid, t.suf FROM targets t JOIN solutions s ON s.id = t.solution_id JOIN problems pr ON pr.id = s.problem_id WHERE t.id = ?',
    );
    const counts: number[] = [];
    for (const id of targetIds) {
      const t = q.get(id)!;
      const prompt = buildFimPrompt('qwen2.5-coder', { ...t, start: startOf(t.mid) }).prompt;
      const r = (await (await fetch(`${probe.url}/tokenize`, { method: 'POST', body: JSON.stringify({ prompt }), headers: { 'content-type': 'application/json' } })).json()) as { count: number };
      counts.push(r.count);
    }
    await probe.close();
    const sorted = [...counts].sort((a, b) => a - b);
    const maxModelLen = sorted[Math.floor(sorted.length / 2)] + 32;
    const tooLong = counts.filter((c) => c + 32 > maxModelLen).length;
    expect(tooLong).toBeGreaterThan(0);
    const srv = await startLocalVllm({ db: dbFile, maxModelLen });
    try {
      const s = await runSampleJob(p, spec(srv, { maxTokens: 32, n: 2 }));
      expect(s).toMatchObject({ status: 'done', skippedTargets: tooLong, expected: (targetIds.length - tooLong) * 2, samples: (targetIds.length - tooLong) * 2 });
      const skips = p.db.prepare<[number], { target_id: number; reason: string }>('SELECT target_id, reason FROM sample_skips WHERE job_id = ? ORDER BY target_id').all(s.jobId);
      expect(skips.map((k) => k.target_id)).toEqual(targetIds.filter((_, i) => counts[i] + 32 > maxModelLen));
      for (const k of skips) expect(k.reason).toMatch(new RegExp(`maximum context length is ${maxModelLen}`));
      expect(p.db.prepare<[number, number], { n: number }>('SELECT COUNT(*) AS n FROM samples WHERE job_id = ? AND target_id IN (SELECT target_id FROM sample_skips WHERE job_id = ?)').get(s.jobId, s.jobId)!.n).toBe(0);
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('stops on 401 and 404 with a clear message; the API key comes from the environment and is never stored', async () => {
    const srv = await startLocalVllm({ db: dbFile, apiKey: 'sekrit-key-123' });
    const saved = process.env.PAIRFORGE_API_KEY;
    try {
      delete process.env.PAIRFORGE_API_KEY;
      await expect(runSampleJob(p, spec(srv))).rejects.toThrow(/401 Unauthorized: the server needs an API key \(set PAIRFORGE_API_KEY\)/);
      const unchecked = await runSampleJob(p, spec(srv), { skipHealthCheck: true });
      expect(unchecked).toMatchObject({ status: 'failed', produced: 0 });
      expect(unchecked.message).toMatch(/401 .*PAIRFORGE_API_KEY/);
      expect(p.db.prepare<[number], { status: string; message: string }>('SELECT status, message FROM sample_jobs WHERE id = ?').get(unchecked.jobId)).toMatchObject({ status: 'failed' });

      process.env.PAIRFORGE_API_KEY = 'sekrit-key-123';
      await expect(runSampleJob(p, spec({ url: srv.url, model: 'no-such-model' }))).rejects.toThrow(/does not serve 'no-such-model' \(it serves: pairforge-local-vllm, pairforge-local-policy, pairforge-local-reference\)/);
      const wrong = await runSampleJob(p, spec({ url: srv.url, model: 'no-such-model' }), { skipHealthCheck: true });
      expect(wrong.status).toBe('failed');
      expect(wrong.message).toMatch(/404 The model `no-such-model` does not exist/);

      const ok = await runSampleJob(p, spec(srv, { n: 1 }));
      expect(ok).toMatchObject({ status: 'done', samples: targetIds.length });
      p.db.pragma('wal_checkpoint(TRUNCATE)');
      expect(readFileSync(dbFile).includes('sekrit-key-123')).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.PAIRFORGE_API_KEY;
      else process.env.PAIRFORGE_API_KEY = saved;
      await srv.close();
    }
  }, 60_000);

  it('waits for a server that restarts mid-job', async () => {
    const srv = await startLocalVllm({ db: dbFile, latencyMs: 10 });
    try {
      let restarted = false;
      const s = await runSampleJob(p, spec(srv, { seed: 11, concurrency: 4, downWaitMs: 20_000 }), {
        onProgress: (pr) => {
          if (!restarted && pr.done >= 10) {
            restarted = true;
            void srv.restart(1500);
          }
        },
      });
      expect(restarted).toBe(true);
      expect(srv.stats().restarts).toBe(1);
      expect(s.status).toBe('done');
      expect(s.retries).toBeGreaterThan(0);
      expect(rowsOf(s.jobId).map((r) => [r.target_id, r.sample_index, r.raw])).toEqual(clean.map((r) => [r.target_id, r.sample_index, r.raw]));
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('stops cleanly when the server stays away, then resumes to exactly the expected set', async () => {
    let srv: LocalVllm = await startLocalVllm({ db: dbFile, latencyMs: 10 });
    const port = srv.port;
    const logs: string[] = [];
    let closing: Promise<void> | undefined;
    const s = await runSampleJob(p, spec(srv, { seed: 11, concurrency: 4, downWaitMs: 800 }), {
      log: (m) => logs.push(m),
      onProgress: (pr) => {
        if (!closing && pr.done >= 12) closing = srv.close();
      },
    });
    await closing;
    expect(s.status).toBe('stopped');
    expect(s.samples).toBeGreaterThanOrEqual(12);
    expect(s.samples).toBeLessThan(targetIds.length * 3);
    expect(s.message).toMatch(new RegExp(`resume with: pairforge sample --db .* --resume ${s.jobId}`));
    expect(logs.join('\n')).toMatch(/waiting up to 1 s for it to come back/);
    expect(logs.join('\n')).toMatch(/given up/);
    expect(p.db.prepare<[number], { status: string }>('SELECT status FROM sample_jobs WHERE id = ?').get(s.jobId)!.status).toBe('stopped');

    srv = await startLocalVllm({ db: dbFile, latencyMs: 2, port });
    try {
      const r = await runSampleJob(p, { ...spec(srv), endpoints: [] }, { resume: s.jobId });
      expect(r).toMatchObject({ jobId: s.jobId, resumed: true, status: 'done', produced: targetIds.length * 3 - s.samples });
      const rows = rowsOf(s.jobId);
      expect(keysOf(rows)).toEqual(expectedKeys(targetIds, 3));
      expect(rows.map((x) => x.raw)).toEqual(clean.map((x) => x.raw));
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('stops on cancel and resumes; the same command continues an unfinished job', async () => {
    const srv = await startLocalVllm({ db: dbFile, latencyMs: 5 });
    try {
      const ac = new AbortController();
      const s = await runSampleJob(p, spec(srv, { seed: 23 }), { signal: ac.signal, reuse: 'unfinished', onProgress: (pr) => pr.done >= 9 && ac.abort() });
      expect(s.status).toBe('stopped');
      expect(s.message).toMatch(/^interrupted; resume with/);
      const r = await runSampleJob(p, spec(srv, { seed: 23 }), { reuse: 'unfinished' });
      expect(r).toMatchObject({ jobId: s.jobId, resumed: true, status: 'done' });
      expect(keysOf(rowsOf(s.jobId))).toEqual(expectedKeys(targetIds, 3));
      // once done, the same command (reuse 'unfinished') starts a new job with new draws
      const fresh = await runSampleJob(p, spec(srv, { seed: 23, n: 1 }), { reuse: 'unfinished' });
      expect(fresh.jobId).not.toBe(s.jobId);
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('a store that refuses writes mid-job fails the job without losing what was stored; resume completes it', async () => {
    const srv = await startLocalVllm({ db: dbFile, latencyMs: 2 });
    try {
      // every sample of the 6th target is refused, as a full disk would refuse it
      p.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.target_id = ${targetIds[5]} BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`);
      let jobId = 0;
      await expect(runSampleJob(p, spec(srv, { seed: 11, concurrency: 2 }), { onProgress: (pr) => (jobId = pr.jobId) })).rejects.toThrow(/disk I\/O error \(test\)/);
      const job = p.db.prepare<[number], { status: string; message: string }>('SELECT status, message FROM sample_jobs WHERE id = ?').get(jobId)!;
      expect(job).toEqual({ status: 'failed', message: 'internal error: disk I/O error (test)' });
      const kept = rowsOf(jobId).length;
      p.db.exec('DROP TRIGGER refuse');
      const r = await runSampleJob(p, spec(srv), { resume: jobId });
      expect(r).toMatchObject({ status: 'done', produced: targetIds.length * 3 - kept });
      expect(rowsOf(jobId).map((x) => [x.target_id, x.sample_index, x.raw])).toEqual(clean.map((x) => [x.target_id, x.sample_index, x.raw]));
    } finally {
      p.db.exec('DROP TRIGGER IF EXISTS refuse');
      await srv.close();
    }
  }, 60_000);

  it('balances two endpoints by outstanding requests within each one\'s limit; samples editor targets', async () => {
    const a = await startLocalVllm({ db: dbFile, latencyMs: 15 });
    const b = await startLocalVllm({ db: dbFile, latencyMs: 15 });
    let maxA = 0;
    let maxB = 0;
    const timer = setInterval(() => {
      maxA = Math.max(maxA, a.stats().inFlight);
      maxB = Math.max(maxB, b.stats().inFlight);
    }, 2);
    try {
      const s = await runSampleJob(p, { ...spec(a), endpoints: [{ url: a.url, model: a.model, concurrency: 2 }, { url: `${b.url}/v1`, model: b.model, concurrency: 3 }] });
      expect(s.status).toBe('done');
      const per = p.db.prepare<[number], { endpoint: string; n: number }>('SELECT endpoint, COUNT(*) AS n FROM samples WHERE job_id = ? GROUP BY endpoint ORDER BY endpoint').all(s.jobId);
      const byUrl = new Map(per.map((r) => [r.endpoint, r.n]));
      // shares follow the limits (2:3), give or take
      expect(byUrl.get(a.url)! / s.samples).toBeGreaterThan(0.25);
      expect(byUrl.get(b.url)! / s.samples).toBeGreaterThan(0.45);
      expect(maxA).toBeLessThanOrEqual(2);
      expect(maxB).toBeLessThanOrEqual(3);
      expect(maxB).toBeGreaterThanOrEqual(2);

      const one = await sampleTargets(p, [targetIds[0], targetIds[1]], { family: 'qwen2.5-coder', endpoints: [{ url: a.url, model: a.model }], n: 5, ...fast });
      expect(one).toMatchObject({ status: 'done', targets: 2, samples: 10 });
      const again = await sampleTargets(p, [targetIds[0]], { family: 'qwen2.5-coder', endpoints: [{ url: a.url, model: a.model }], n: 5, ...fast });
      expect(again.jobId).not.toBe(one.jobId);
      await expect(sampleTargets(p, [987654], { family: 'qwen2.5-coder', endpoints: [{ url: a.url, model: a.model }] })).rejects.toThrow(/no such target: 987654/);
    } finally {
      clearInterval(timer);
      await a.close();
      await b.close();
    }
  }, 60_000);
});

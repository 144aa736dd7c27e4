// Cuts every stored reference solution into fill-in-the-middle targets under one preset.
//
// Resumable and idempotent: a solution counts as done once its `cuts` row exists for the preset
// key, and that row is written in the same transaction as its targets. A kill loses at most the
// chunk being written; a re-run picks up the solutions without a row and never cuts one twice.
//
// StructureCoder's selection before cutting (docs/published.md "StructureCoder"): optional Black formatting,
// solutions over STRUCTURECODER_MAX_WORDS whitespace-separated words skipped (applied to both
// presets: it is a size cap, not a quirk), then the preset's own preparation (`structurecoder`
// strips the code). Passing the tests is checked by a later stage (execution), not here.
//
// Whole programs (`wholePrograms`, opt-in): one more target per solution cut `ok`, of kind
// PROGRAM_KIND, depth 0, pre = suf = '', mid = the whole prepared code (`cuts.code`), lines 0..last,
// ordinal after the blocks, stored under the same preset key (so `sample --preset`, `pairs` and
// `run` take it with the blocks). It is added by its own pass over the `cuts` rows that lack one,
// not with the cut: solutions cut earlier without the option get theirs when the command is run
// again with it, and a kill between the two passes is finished by a re-run. The targets table's
// UNIQUE (solution_id, preset, start_line, end_line, kind) keeps it to one per solution and key.
// `cuts.targets` keeps counting blocks only.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cutSources, type CutOutcome } from '../blocks/batch';
import { formatWithBlack, pyWordCount, STRUCTURECODER_MAX_WORDS } from '../blocks/cut';
import type { PresetOptions, Target } from '../blocks/types';
import { countReferences, referencePage } from '../import/queries';
import type { Project } from '../store/db';
import { inChunks } from '../store/inList';
import { PROGRAM_KIND } from '../protocol';

export interface CutAllOptions extends PresetOptions {
  /** Format each solution with Black first (`black --quiet --fast -`); needs `black` on PATH. */
  black?: boolean;
  /** Also store one whole-program target per solution cut `ok` (see the top of the file). */
  wholePrograms?: boolean;
  /** Worker threads cutting in parallel (server/blocks/batch.ts); default: cores, at most 4. */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Whether a block target's own golden middle does not survive its preset's start and
   * post-processing: counted in CutAllSummary.goldenBroken. The sampling stage knows (its
   * goldenBroken, server/sampling/golden.ts) and comes after this one, so a caller above both
   * (the pipeline) passes it in; without it nothing is counted. */
  goldenCheck?: (t: { kind: string; mid: string }) => boolean;
}

export interface CutAllSummary {
  /** The key targets are stored under, e.g. `structurecoder`, `clean[class,with]+black`. */
  preset: string;
  /** Solutions in the project. */
  solutions: number;
  /** Already cut under this key before this run. */
  alreadyCut: number;
  /** Cut by this run (every status). */
  cut: number;
  ok: number;
  /** Do not parse (after the preset's preparation); kept in `cuts` with the error. */
  unparsed: number;
  /** Over the word limit; not cut. */
  tooLong: number;
  /** Black could not format them; not cut. */
  formatFailed: number;
  /** Block targets stored by this run. */
  targets: number;
  /** Whole-program targets stored by this run (`wholePrograms`; also for solutions cut before). */
  programs: number;
  /** Block targets stored by this run whose own golden middle does not survive the preset's start
   * and post-processing (server/sampling/golden.ts): a sample written like it comes back cut.
   * Under `structurecoder` that is tab-indented code and continuation lines at or left of the
   * block's indentation (the published rule counts only spaces, and every physical line). */
  goldenBroken: number;
  cancelled: boolean;
}


/** Solutions read and written per transaction. */
const CHUNK = 200;

/** The key that separates target sets cut with different options. */
export function presetKey(opts: Pick<CutAllOptions, 'preset' | 'extraKinds' | 'black'>): string {
  let key: string = opts.preset;
  if (opts.preset === 'clean' && opts.extraKinds && opts.extraKinds.length > 0) key += `[${[...new Set(opts.extraKinds)].sort().join(',')}]`;
  if (opts.black) key += '+black';
  return key;
}

/** Formats many solutions with one Black run over a temporary folder (`black --quiet --fast DIR`,
 * as `formatWithBlack` does per text): a Python start-up per solution would take hours on APPS.
 * Black reports each file it cannot format on stderr; those get the message, the rest the
 * formatted text (line endings read back as "\n", as the published pipeline reads text files). */
async function formatManyWithBlack(codes: string[]): Promise<({ code: string } | { error: string })[]> {
  if (codes.length === 0) return [];
  const dir = mkdtempSync(path.join(tmpdir(), 'pairforge-black-'));
  try {
    const files = codes.map((code, i) => {
      const f = path.join(dir, `s${i}.py`);
      writeFileSync(f, code, 'utf8');
      return f;
    });
    const { status, stderr } = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      // BLACK_CACHE_DIR: keep Black's per-file cache of these throwaway files out of the user's home.
      const child = spawn('black', ['--quiet', '--fast', dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BLACK_CACHE_DIR: path.join(dir, '.cache') } });
      const err: Buffer[] = [];
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new Error(`black: could not start: ${e.message}`)));
      child.on('close', (code) => resolve({ status: code, stderr: Buffer.concat(err).toString('utf8') }));
    });
    // 0: all formatted; 123: some files could not be formatted (named on stderr).
    if (status !== 0 && status !== 123) {
      const msg = `black failed (exit ${status}): ${stderr.trim() || 'no message'}`;
      return codes.map(() => ({ error: msg }));
    }
    const failed = new Map<string, string>();
    for (const line of stderr.split('\n')) {
      const m = /^error: cannot format (.+?\.py): (.*)$/.exec(line);
      if (m) failed.set(path.resolve(m[1]), m[2]);
    }
    return files.map((f) => {
      const error = failed.get(f);
      if (error !== undefined) return { error: `black could not format the code: ${error}` };
      return { code: readFileSync(f, 'utf8').replace(/\r\n?/g, '\n') };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Prepared = { id: number; code: string } | { id: number; formatError: string };

export async function cutAllTargets(p: Project, opts: CutAllOptions): Promise<CutAllSummary> {
  const key = presetKey(opts);
  const { db } = p;
  const presetOpts: PresetOptions = { preset: opts.preset, ...(opts.extraKinds ? { extraKinds: opts.extraKinds } : {}) };
  // Fail before touching anything when Black is asked for but missing.
  if (opts.black) await formatWithBlack('x = 1\n');

  const solutions = countReferences(p, 'solution');
  const alreadyCut = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM cuts WHERE preset = ?').get(key)!.n;
  const summary: CutAllSummary = {
    preset: key,
    solutions,
    alreadyCut,
    cut: 0,
    ok: 0,
    unparsed: 0,
    tooLong: 0,
    formatFailed: 0,
    targets: 0,
    programs: 0,
    goldenBroken: 0,
    cancelled: false,
  };
  const todo = solutions - alreadyCut;
  // The solutions after `after` not cut under the key yet, read a page of solutions at a time.
  const pendingChunk = (after: number): { chunk: { id: number; code: string }[]; last: number } => {
    for (;;) {
      const page = referencePage(p, 'solution', after, CHUNK);
      if (page.length === 0) return { chunk: [], last: after };
      after = page[page.length - 1].id;
      const cut = cutAmong(p, key, page.map((s) => s.id));
      const chunk = page.filter((s) => !cut.has(s.id));
      if (chunk.length > 0) return { chunk, last: after };
    }
  };
  const insertCut = db.prepare<unknown[], { id: number }>(
    `INSERT INTO cuts (solution_id, preset, status, error, words, code, targets, cut_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (solution_id, preset) DO NOTHING RETURNING id`,
  );
  const insertTarget = db.prepare(
    `INSERT INTO targets (solution_id, preset, ordinal, kind, depth, start_line, end_line, pre, mid, suf)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );

  type Row = { id: number; status: 'ok' | 'unparsed' | 'too_long' | 'format_failed'; error: string | null; words: number; code: string | null; targets: Target[] };
  const write = db.transaction((rows: Row[]) => {
    const now = new Date().toISOString();
    for (const r of rows) {
      // Another writer may have cut it meanwhile: then its row and targets stand.
      if (!insertCut.get(r.id, key, r.status, r.error, r.words, r.code, r.targets.length, now)) continue;
      summary.cut++;
      if (r.status === 'ok') summary.ok++;
      else if (r.status === 'unparsed') summary.unparsed++;
      else if (r.status === 'too_long') summary.tooLong++;
      else summary.formatFailed++;
      r.targets.forEach((t, i) => {
        const stored = insertTarget.run(r.id, key, i, t.kind, t.depth, t.startLine, t.endLine, t.pre, t.mid, t.suf).changes;
        summary.targets += stored;
        if (stored > 0 && opts.goldenCheck?.(t)) summary.goldenBroken++;
      });
    }
  });

  let lastId = 0;
  let done = 0;
  opts.onProgress?.(0, todo);
  for (;;) {
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    const { chunk, last } = pendingChunk(lastId);
    if (chunk.length === 0) break;
    lastId = last;
    const prepared: Prepared[] = opts.black
      ? (await formatManyWithBlack(chunk.map((c) => c.code))).map((r, i) =>
          'code' in r ? { id: chunk[i].id, code: r.code } : { id: chunk[i].id, formatError: r.error },
        )
      : chunk;
    const words = prepared.map((s) => ('code' in s ? pyWordCount(s.code) : 0));
    const toCut = prepared.flatMap((s, i) => ('code' in s && words[i] <= STRUCTURECODER_MAX_WORDS ? [{ i, code: s.code }] : []));
    // The chunk's cuttable solutions are cut on worker threads; its rows are written together.
    const outcomes = new Map<number, CutOutcome>();
    await cutSources(
      toCut.map((c) => c.code),
      { ...presetOpts, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) },
      (r, k) => outcomes.set(toCut[k].i, r),
    );
    const rows = prepared.map((s, i): Row => {
      if ('formatError' in s) return { id: s.id, status: 'format_failed', error: s.formatError, words: 0, code: null, targets: [] };
      if (words[i] > STRUCTURECODER_MAX_WORDS) {
        return { id: s.id, status: 'too_long', error: `${words[i]} words > ${STRUCTURECODER_MAX_WORDS}`, words: words[i], code: null, targets: [] };
      }
      const r = outcomes.get(i)!;
      if (r.error !== undefined) return { id: s.id, status: 'unparsed', error: r.error, words: words[i], code: r.code, targets: [] };
      return { id: s.id, status: 'ok', error: null, words: words[i], code: r.code, targets: r.targets };
    });
    write.immediate(rows);
    done += chunk.length;
    opts.onProgress?.(done, todo);
    // Let signals (Ctrl-C) and other work run between chunks.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (opts.wholePrograms && !summary.cancelled) {
    const r = await addProgramTargets(p, key, opts.signal);
    summary.programs = r.programs;
    summary.cancelled = r.cancelled;
  }
  return summary;
}

/** The lines a whole-program target spans: 0 .. the last line of the code. */
function lastLine(code: string): number {
  let n = 0;
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) n++;
  return n;
}

/** Stores the missing whole-program targets of the solutions cut `ok` under `key`, in chunks of
 * CHUNK solutions per transaction. Idempotent: only cuts without one are read, and the insert
 * does nothing on a conflict. Code that is blank after preparation gets none. */
export async function addProgramTargets(p: Project, key: string, signal?: AbortSignal): Promise<{ programs: number; cancelled: boolean }> {
  const { db } = p;
  const pending = db.prepare<[number, string, string, number], { solution_id: number; code: string; targets: number }>(
    `SELECT c.solution_id, c.code, c.targets FROM cuts c
     WHERE c.solution_id > ? AND c.preset = ? AND c.status = 'ok' AND c.code IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.solution_id = c.solution_id AND t.preset = c.preset AND t.kind = ?)
     ORDER BY c.solution_id LIMIT ?`,
  );
  const insert = db.prepare(
    `INSERT INTO targets (solution_id, preset, ordinal, kind, depth, start_line, end_line, pre, mid, suf)
     VALUES (?, ?, ?, ?, 0, 0, ?, '', ?, '') ON CONFLICT DO NOTHING`,
  );
  const write = db.transaction((rows: { solution_id: number; code: string; targets: number }[]): number => {
    let n = 0;
    for (const r of rows) {
      if (r.code.trim() === '') continue;
      n += insert.run(r.solution_id, key, r.targets, PROGRAM_KIND, lastLine(r.code), r.code).changes;
    }
    return n;
  });
  let programs = 0;
  let lastId = 0;
  for (;;) {
    if (signal?.aborted) return { programs, cancelled: true };
    const rows = pending.all(lastId, key, PROGRAM_KIND, CHUNK);
    if (rows.length === 0) break;
    lastId = rows[rows.length - 1].solution_id;
    programs += write.immediate(rows);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { programs, cancelled: false };
}

export interface CutStats {
  preset: string;
  solutions: number;
  ok: number;
  unparsed: number;
  tooLong: number;
  formatFailed: number;
  targets: number;
}

/** Per preset key: how the cut solutions fared (for `pairforge stats`). */
export function cutStats(p: Project): CutStats[] {
  return p.db
    .prepare<[], CutStats>(
      `SELECT preset, COUNT(*) AS solutions,
              SUM(status = 'ok') AS ok, SUM(status = 'unparsed') AS unparsed,
              SUM(status = 'too_long') AS tooLong, SUM(status = 'format_failed') AS formatFailed,
              SUM(targets) AS targets
       FROM cuts GROUP BY preset ORDER BY preset`,
    )
    .all();
}

/** Which of the solutions have a cut under the preset key. */
function cutAmong(p: Project, key: string, ids: readonly number[]): Set<number> {
  const out = new Set<number>();
  inChunks(ids, (slice, qs) => {
    for (const r of p.db.prepare<unknown[], { id: number }>(`SELECT solution_id AS id FROM cuts WHERE preset = ? AND solution_id IN (${qs})`).all(key, ...slice)) out.add(r.id);
  });
  return out;
}

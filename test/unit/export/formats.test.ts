// Export round-trips: pairs stored -> trl / structurecoder / llamafactory files -> read back; the
// rendered FIM and chat formats; the selection; the manifest and re-export from it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EXPORT, ExportCancelled, exportPairs, readManifest, reExport, type ExportOptions } from '../../../server/export/export';
import { listExports } from '../../../server/export/store';
import type { StructureCoderRecord, TrlRecord } from '../../../server/export/records';
import { renderPair, TRAINING_SENTENCE } from '../../../server/pairs/render';
import { setPairStatus } from '../../../server/pairs/store';
import type { PairFlag } from '../../../server/protocol';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addHistory, addPairs, addProblem, addSolution, addTarget, pairOnTarget, type PairSpec } from '../../support/fixtures';

let dir: string;
let p: Project;
const QUESTION = 'Sum.\n\nInput: n';

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'export-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  const problemId = addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'p1', question: QUESTION });
  const solutionId = addSolution(p, { problemId, code: 'x' });
  // Targets 1..4: target t is a `for` block of depth t whose middle has t + 1 lines.
  for (let t = 1; t <= 4; t++) addTarget(p, { solutionId, pre: 'a\n', mid: `for x in y:\n${'    z()\n'.repeat(t - 1)}    pass`, suf: '\nb', depth: t });
  addHistory(p, { problemId });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A FIM pair on target t (its context, depth and golden line count). */
function fimPair(t: number, flags: PairFlag[] = []): PairSpec {
  return pairOnTarget(p, t, {
    pairKey: `sc:${t}`,
    chosen: `for x in y:\n    ok(${t})`,
    rejected: `for x in y:\n    bad(${t})`,
    provenance: { pairing: { mode: 'structurecoder' }, endpoints: ['http://e/v1'], models: ['m1'], jobs: [], tokens: { method: 'estimate' }, limits: { maxTokens: 2048 } },
    editDistance: 4,
    flags,
  });
}

const IP: PairSpec = {
  pairKey: 'ip:1:1:2',
  problemId: 1,
  historyId: 1,
  chosen: 'n = 1\nprint(n)\n',
  rejected: 'n = 1\nprint(m)\n',
  chosenSpans: [[0, 15]],
  rejectedSpans: [[6, 15]],
  provenance: { pairing: { mode: 'iterpref' }, tokens: { method: 'estimate' } },
  editDistance: 2,
};

function seed(): void {
  addPairs(p, [fimPair(1), fimPair(2), fimPair(3), fimPair(4, ['too_long']), IP]);
  for (const id of [1, 2, 5]) setPairStatus(p, id, 'accepted');
}

const opts = (o: Partial<ExportOptions> & Pick<ExportOptions, 'format'>): ExportOptions => ({ ...DEFAULT_EXPORT, ...o });
const jsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe('renderPair', () => {
  const input = { question: 'Q\n\nline', pre: 'a\n', suf: '\nb', chosen: 'if x:\n    y', rejected: 'if x:\n    z', chosenSpans: [[0, 11]] as [number, number][], rejectedSpans: [[0, 11]] as [number, number][] };
  it('FIM: the published prompt (question as comments), middle + end token, span over all of it', () => {
    const r = renderPair(input, 'fim', 'qwen2.5-coder');
    expect(r.prompt).toBe('<|fim_prefix|># Q\n\n# line\n\na\n<|fim_suffix|>\nb<|fim_middle|>');
    expect(r.chosen).toBe('if x:\n    y<|endoftext|>');
    expect(r.chosenSpans).toEqual([[0, r.chosen.length]]);
  });
  it('chat: template + ```python + pre, response = middle only', () => {
    const r = renderPair(input, 'chat', 'qwen2.5-coder');
    expect(r.prompt.startsWith('<|im_start|>system\nYou are an intelligent programming assistant to produce Python algorithmic solutions.<|im_end|>\n<|im_start|>user\nQ\n\nline<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
    expect(r.prompt.endsWith('```python\na\n')).toBe(true);
    expect(r.chosen).toBe('if x:\n    y');
  });
  it('a whole program is chat even when FIM is asked for; partial spans stay put', () => {
    const r = renderPair({ ...input, pre: '', suf: '', rejectedSpans: [[6, 11]] }, 'fim', 'qwen2.5-coder');
    expect(r.format).toBe('chat');
    expect(r.rejectedSpans).toEqual([[6, 11]]);
  });
});

describe('exportPairs', () => {
  it('trl: accepted pairs only by default; records carry spans and metadata; FIM/chat drawn', async () => {
    seed();
    const out = path.join(dir, 'trl');
    const s = await exportPairs(p, out, opts({ format: 'trl', order: 'none' }));
    const recs = jsonl<TrlRecord>(path.join(out, 'pairs.trl.jsonl'));
    expect(recs.map((r) => r.metadata.pair_key)).toEqual(['sc:1', 'sc:2', 'ip:1:1:2']);
    // Random(3407) draws T T T: the two FIM pairs come out as FIM, the IterPref pair as chat.
    expect(recs.map((r) => r.metadata.format)).toEqual(['fim', 'fim', 'chat']);
    const [fim, , ip] = recs;
    expect(fim.prompt).toBe('<|fim_prefix|># Sum.\n\n# Input: n\n\na\n<|fim_suffix|>\nb<|fim_middle|>');
    expect(fim.chosen).toBe('for x in y:\n    ok(1)<|endoftext|>');
    expect(fim.chosen_loss_spans).toEqual([[0, fim.chosen.length]]);
    expect(ip.rejected).toBe('n = 1\nprint(m)\n');
    expect(ip.rejected_loss_spans).toEqual([[6, 15]]);
    expect(ip.rejected.slice(6, 15)).toBe('print(m)\n');
    expect(fim.metadata).toMatchObject({ mode: 'structurecoder', kind: 'fim', problem: 'demo/p1', target_id: 1, depth: 1, golden_lines: 2, models: ['m1'] });
    expect(fim.metadata).not.toHaveProperty('status');
    expect(s.manifest.counts).toMatchObject({ pairs: 3, records: 3, byKind: { fim: 2, iterpref: 1 }, byFormat: { chat: 1, fim: 2 }, byStatus: { accepted: 3 } });
    expect(s.manifest.endpoints).toEqual(['http://e/v1']);
    expect(s.manifest.datasets).toEqual([expect.objectContaining({ name: 'demo', problems: 1 })]);
  });

  it('--include-pending adds pending pairs without flags (never a flagged one)', async () => {
    seed();
    const s = await exportPairs(p, path.join(dir, 'x'), opts({ format: 'trl', includePending: true, order: 'none' }));
    expect(s.manifest.pairKeys).toEqual(['sc:1', 'sc:2', 'sc:3', 'ip:1:1:2']);
  });

  it('--training-sentence is appended to the query', async () => {
    seed();
    const out = path.join(dir, 'ts');
    await exportPairs(p, out, opts({ format: 'trl', order: 'none', fimRate: 0, trainingSentence: true }));
    const [r] = jsonl<TrlRecord>(path.join(out, 'pairs.trl.jsonl'));
    expect(r.prompt).toContain(`user\nSum.\n\nInput: n\n\n${TRAINING_SENTENCE}<|im_end|>`);
  });

  it('structurecoder: the published layout, curriculum by golden lines with epochs', async () => {
    seed();
    const out = path.join(dir, 'sc');
    await exportPairs(p, out, opts({ format: 'structurecoder', mode: 'structurecoder', epochs: 3 }));
    const recs = jsonl<StructureCoderRecord>(path.join(out, 'pairs.structurecoder.jsonl'));
    expect(recs).toHaveLength(6);
    expect(Object.keys(recs[0])).toEqual(['chosen', 'rejected']);
    expect(recs[0].chosen).toEqual({ query: QUESTION, response_pre: 'a\n', response_mid: 'for x in y:\n    ok(1)', response_suf: '\nb' });
    // Golden lines 2 (target 1) before 3 (target 2), each three times in a row.
    expect(recs.map((r) => r.chosen.response_mid.slice(-2, -1))).toEqual(['1', '1', '1', '2', '2', '2']);
  });

  it('llamafactory: JSON array + dataset_info.json entry', async () => {
    seed();
    const out = path.join(dir, 'lf');
    await exportPairs(p, out, opts({ format: 'llamafactory', order: 'none' }));
    const recs = JSON.parse(readFileSync(path.join(out, 'pairforge_dpo.json'), 'utf8')) as { instruction: string; input: string; chosen: string; rejected: string }[];
    expect(recs).toHaveLength(3);
    expect(recs[0].instruction.startsWith('<|fim_prefix|>')).toBe(true);
    expect(recs[0].input).toBe('');
    const info = JSON.parse(readFileSync(path.join(out, 'dataset_info.json'), 'utf8'));
    expect(info).toEqual({ pairforge_dpo: { file_name: 'pairforge_dpo.json', ranking: true, columns: { prompt: 'instruction', query: 'input', chosen: 'chosen', rejected: 'rejected' } } });
  });

  it('re-export from the manifest is byte-identical, even after statuses change; an edited pair is reported', async () => {
    seed();
    const first = path.join(dir, 'first');
    const a = await exportPairs(p, first, opts({ format: 'trl', order: 'random', seed: 9, epochs: 2 }));
    setPairStatus(p, 1, 'rejected'); // the manifest's pair list still holds it
    const again = await reExport(p, path.join(first, 'manifest.json'), path.join(dir, 'again'));
    expect(again.reproduced).toEqual({ identical: true, differing: [] });
    expect(readFileSync(path.join(dir, 'again', 'pairs.trl.jsonl'), 'utf8')).toBe(readFileSync(path.join(first, 'pairs.trl.jsonl'), 'utf8'));
    expect(again.manifest.pairKeys).toEqual(a.manifest.pairKeys);
    p.db.prepare("UPDATE pairs SET chosen = 'edited' WHERE id = 2").run();
    expect((await reExport(p, path.join(first, 'manifest.json'), path.join(dir, 'third'))).reproduced).toEqual({ identical: false, differing: ['pairs.trl.jsonl'] });
    p.db.prepare('DELETE FROM pairs WHERE id = 2').run();
    await expect(reExport(p, path.join(first, 'manifest.json'), path.join(dir, 'fourth'))).rejects.toThrow(/no longer has: sc:2/);
  });
});

describe('exportPairs cancelled', () => {
  it('stops at a checkpoint: nothing written or recorded, the folder it made removed, an earlier export in place untouched', async () => {
    seed();
    const stopAt = (phase: 'reading' | 'writing') => {
      const ac = new AbortController();
      return { signal: ac.signal, onProgress: (at: 'reading' | 'writing') => at === phase && ac.abort() };
    };
    const fresh = path.join(dir, 'fresh');
    for (const phase of ['reading', 'writing'] as const) {
      await expect(exportPairs(p, fresh, opts({ format: 'trl' }), undefined, stopAt(phase))).rejects.toThrow(ExportCancelled);
      expect(existsSync(fresh), phase).toBe(false);
    }
    expect(listExports(p)).toEqual([]);
    const kept = path.join(dir, 'kept');
    await exportPairs(p, kept, opts({ format: 'trl' }));
    const before = Object.fromEntries(readdirSync(kept).map((f) => [f, readFileSync(path.join(kept, f), 'utf8')]));
    await expect(exportPairs(p, kept, opts({ format: 'llamafactory' }), undefined, stopAt('writing'))).rejects.toThrow(`export cancelled: nothing was written to ${kept}`);
    expect(Object.fromEntries(readdirSync(kept).map((f) => [f, readFileSync(path.join(kept, f), 'utf8')]))).toEqual(before);
    expect(listExports(p)).toHaveLength(1);
  });
});

describe('exportPairs when writing fails', () => {
  it('leaves no temporary file and no open descriptor behind', async () => {
    seed();
    const out = path.join(dir, 'out');
    // A folder where the manifest should go: its rename fails after the data file was written.
    mkdirSync(path.join(out, 'manifest.json'), { recursive: true });
    const fds = readdirSync('/proc/self/fd').length;
    await expect(exportPairs(p, out, opts({ format: 'trl' }))).rejects.toThrow();
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });
});

describe('readManifest', () => {
  it('names the file and the field that is wrong', async () => {
    seed();
    const out = path.join(dir, 'm');
    await exportPairs(p, out, opts({ format: 'trl' }));
    const file = path.join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...m, options: { ...m.options, order: 'sideways' } }));
    expect(() => readManifest(file)).toThrow(`${file}: field 'options.order' must be lines | depth | random | none (got "sideways")`);
    writeFileSync(file, JSON.stringify({ ...m, options: { ...m.options, fimRate: 3 } }));
    expect(() => readManifest(file)).toThrow(/field 'options.fimRate' must be a number between 0 and 1/);
    writeFileSync(file, '{"options": {"format": "trl"}, "files": []}');
    expect(() => readManifest(file)).toThrow(/field 'pairKeys' is missing/);
    writeFileSync(file, 'not json');
    expect(() => readManifest(file)).toThrow(/not a readable manifest/);
  });
});

// extractFiles: same targets as cutTargets per file, in the order given, on the calling thread and
// on worker threads (the built dist/blocks-worker.js, when `npm run build` has run).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileResult } from '../../../server/blocks/batch';
import { cutSources, extractFiles, findWorkerScript } from '../../../server/blocks/batch';
import { cutTargets } from '../../../server/blocks/cut';
import type { PythonGrammar } from '../../../server/blocks/parser';
import { loadPython } from '../../../server/blocks/parser';
import type { PresetOptions } from '../../../server/blocks/types';

let g: PythonGrammar;
let files: string[];
let sources: string[];
beforeAll(async () => {
  g = await loadPython();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-blocks-'));
  sources = [];
  for (let i = 0; i < 12; i++) {
    sources.push(
      i % 5 === 4
        ? `if c == '#':\n    x = ${i}\n` // the structurecoder quirk breaks this one
        : `def solve${i}(n):\n    for i in range(n):\n        if i % ${i + 2} == 0:\n            print(i)  # ${i}\n    return n\nwhile False:\n    pass\n`,
    );
  }
  files = sources.map((s, i) => {
    const f = path.join(dir, `s${i}.py`);
    writeFileSync(f, s);
    return f;
  });
  files.splice(3, 0, path.join(dir, 'missing.py'));
});

async function run(opts: PresetOptions & { threads?: number }): Promise<FileResult[]> {
  const out: FileResult[] = [];
  await extractFiles(files, opts, (r) => out.push(r));
  return out;
}

function expected(opts: PresetOptions) {
  return files.map((f) => {
    if (f.endsWith('missing.py')) return { file: f, targets: [], error: expect.stringMatching(/cannot read .*missing\.py: ENOENT/) };
    const r = cutTargets(g, sources[Number(/s(\d+)\.py$/.exec(f)![1])], opts);
    return { file: f, targets: r.targets, code: r.code, ...(r.error ? { error: r.error } : {}) };
  });
}

describe('extractFiles', () => {
  for (const preset of ['structurecoder', 'clean'] as const) {
    it(`${preset}: on the calling thread`, async () => {
      const got = await run({ preset, threads: 0 });
      expect(got).toMatchObject(expected({ preset }));
      expect(got.filter((r) => r.error && !r.file.endsWith('missing.py')).length).toBe(preset === 'structurecoder' ? 2 : 0);
    });
    it.runIf(findWorkerScript() !== undefined)(`${preset}: on 2 worker threads, results in input order`, async () => {
      const got = await run({ preset, threads: 2 });
      expect(got).toMatchObject(expected({ preset }));
      expect(got.map((r) => r.file)).toEqual(files);
    });
  }
  it('an unknown worker script is a clear error', async () => {
    await expect(extractFiles(files, { preset: 'clean', threads: 1, workerScript: '/nonexistent/worker.js' }, () => {})).rejects.toThrow(
      /blocks worker script not found: \/nonexistent\/worker\.js/,
    );
  });
  it('no files: resolves without calling back', async () => {
    let calls = 0;
    await extractFiles([], { preset: 'clean', threads: 2 }, () => calls++);
    expect(calls).toBe(0);
  });
  it('an unreadable file is marked unreadable, a file that does not parse is not', async () => {
    const got = await run({ preset: 'structurecoder', threads: 0 });
    expect(got.filter((r) => r.unreadable).map((r) => r.file)).toEqual([path.join(path.dirname(files[0]), 'missing.py')]);
    expect(got.filter((r) => r.error && !r.unreadable)).toHaveLength(2);
  });
});

describe('cutSources', () => {
  for (const threads of [0, 2]) {
    it.runIf(threads === 0 || findWorkerScript() !== undefined)(`texts in memory, ${threads} threads: cutTargets per text, by index, in order`, async () => {
      const got: { index: number; targets: unknown; error?: string }[] = [];
      await cutSources(sources, { preset: 'structurecoder', threads }, (r, index) => got.push({ index, targets: r.targets, ...(r.error ? { error: r.error } : {}) }));
      expect(got.map((r) => r.index)).toEqual(sources.map((_, i) => i));
      got.forEach((r, i) => {
        const want = cutTargets(g, sources[i], { preset: 'structurecoder' });
        expect(r.targets).toEqual(want.targets);
        expect(r.error).toBe(want.error);
      });
    });
  }
});

describe('a consumer that takes its time', () => {
  for (const threads of [0, 2]) {
    it.runIf(threads === 0 || findWorkerScript() !== undefined)(`${threads} threads: a promise from onResult holds the next delivery until it settles`, async () => {
      const events: string[] = [];
      let busy = false;
      await cutSources(sources, { preset: 'clean', threads }, async (_r, index) => {
        expect(busy).toBe(false);
        busy = true;
        events.push(`start ${index}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${index}`);
        busy = false;
      });
      expect(events).toEqual(sources.flatMap((_, i) => [`start ${i}`, `end ${i}`]));
    });
  }
  it('a rejected promise fails the batch', async () => {
    await expect(cutSources(sources, { preset: 'clean', threads: 0 }, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });
});

// The import rules of test/support/boundaries.ts, checked on every source file of the repository,
// and on made-up files that break each rule (so the check itself is known to catch them).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { boundaryViolations, type SourceImports } from '../support/boundaries';
import { root } from '../support/paths';

function sources(): SourceImports[] {
  const out: SourceImports[] = [];
  for (const top of ['extension', 'server', 'webview']) {
    let files: string[];
    try {
      files = readdirSync(path.join(root, top), { recursive: true, encoding: 'utf8' });
    } catch {
      continue; // webview/ may not exist yet
    }
    for (const f of files) {
      if (!/\.(ts|tsx|mts)$/.test(f) || f.endsWith('.d.ts')) continue;
      const file = `${top}/${f.split(path.sep).join('/')}`;
      const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
      out.push({ file, imports: info.importedFiles.map((i) => i.fileName) });
    }
  }
  return out;
}

describe('import boundaries', () => {
  it('hold in the repository', () => {
    const all = sources();
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((s) => s.file === 'server/protocol/index.ts')).toBe(true);
    expect(boundaryViolations(all)).toEqual([]);
  });

  it('catch each kind of violation', () => {
    const cases: [SourceImports, RegExp][] = [
      [{ file: 'server/exec/engine.ts', imports: ['vscode'] }, /only extension\/ may import vscode/],
      [{ file: 'server/protocol/messages.ts', imports: ['../exec/types'] }, /a contract imports nothing else of ours/],
      [{ file: 'extension/commands.ts', imports: ['../server/blocks/types'] }, /only through server\/protocol/],
      [{ file: 'extension/commands.ts', imports: ['../server/protocol/messages'] }, /^$/],
      [{ file: 'server/exec/store.ts', imports: ['../sampling/job'] }, /stage exec imports the later stage sampling/],
      [{ file: 'server/targets/cutAll.ts', imports: ['../pipeline/run'] }, /never imports the layer on top/],
      [{ file: 'server/store/db.ts', imports: ['../exec/types'] }, /server\/store is shared by every stage/],
      [{ file: 'server/lsp/context.ts', imports: ['../blocks/feature'] }, /server\/lsp is shared by every stage/],
      [{ file: 'webview/review/main.ts', imports: ['vscode'] }, /no vscode, no Node/],
      [{ file: 'webview/review/main.ts', imports: ['node:fs'] }, /no vscode, no Node/],
      [{ file: 'webview/review/main.ts', imports: ['../../server/protocol'] }, /its own contract and files only/],
      [{ file: 'server/newthing/x.ts', imports: ['../exec/types'] }, /not a known place in server/],
      [{ file: 'webview/dashboard/contract.ts', imports: ['../contract'] }, /a contract imports nothing else of ours/],
      [{ file: 'extension/dashboard.ts', imports: ['../webview/dashboard/render'] }, /only through server\/protocol/],
      [{ file: 'server/exec/aggregates.ts', imports: ['../dashboard/data'] }, /never imports the layer on top/],
    ];
    for (const [src, why] of cases) {
      const v = boundaryViolations([src]).join('\n');
      expect(v, `${src.file} -> ${src.imports.join(', ')}`).toMatch(why);
    }
    // Allowed: earlier stages, the shared base, packages, Node in the engine.
    expect(boundaryViolations([{ file: 'server/pairs/build.ts', imports: ['../exec/store', '../store/db', '../protocol', '../lsp/errors', 'better-sqlite3', 'node:fs'] }])).toEqual([]);
    expect(boundaryViolations([{ file: 'server/pipeline/run.ts', imports: ['../export/export', '../localvllm/server'] }])).toEqual([]);
    expect(boundaryViolations([{ file: 'server/dashboard/data.ts', imports: ['../scoring/aggregates', '../exec/aggregates'] }])).toEqual([]);
    expect(boundaryViolations([{ file: 'extension/dashboard.ts', imports: ['../webview/dashboard/contract', '../server/protocol'] }])).toEqual([]);
  });
});

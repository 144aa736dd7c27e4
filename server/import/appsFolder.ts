// APPS as it is published: one folder per problem (`question.txt`, `solutions.json`,
// `input_output.json`, `metadata.json`, optional `starter_code.py`), e.g. APPS/train/0042/.
// Each problem folder becomes the record the JSONL release of APPS has for it (problem_id,
// question, solutions and input_output as JSON text, difficulty, url, starter_code), so both
// layouts are read by one validator and a problem has the same content either way.
// Other files in a problem folder (e.g. generated solutions others keep beside them) are ignored.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The files that make a folder an APPS problem folder (at least one of them). */
export const PROBLEM_FILES = ['question.txt', 'solutions.json', 'input_output.json'] as const;

export function isProblemFolder(dir: string): boolean {
  return PROBLEM_FILES.some((f) => existsSync(path.join(dir, f)));
}

export type FolderLayout =
  | { kind: 'problems'; dirs: string[] }
  | { kind: 'problem'; dir: string }
  | { kind: 'none'; subfolders: string[] };

/** What a folder given to `import` holds: problem folders (APPS/train), one problem folder
 * (APPS/train/0042), or neither (then its subfolders, e.g. train and test, to name in the error). */
export function folderLayout(dir: string): FolderLayout {
  if (isProblemFolder(dir)) return { kind: 'problem', dir };
  const subs = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(path.join(dir, e.name)).isDirectory()))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const problems = subs.filter((s) => isProblemFolder(path.join(dir, s)));
  if (problems.length > 0) return { kind: 'problems', dirs: problems.map((s) => path.join(dir, s)) };
  return { kind: 'none', subfolders: subs };
}

export type FolderRecord =
  | { ok: true; record: Record<string, string | number>; bytes: number }
  | { ok: false; file: string; line: number; reason: string; bytes: number };

/** The problem's id: the folder's name, as a number when it is one (0042 -> 42, the JSONL
 * release's problem_id), else the name itself. */
export function problemIdOf(dir: string): string | number {
  const name = path.basename(dir);
  return /^\d+$/.test(name) && name.length < 16 ? Number(name) : name;
}

/** 1-based line of a JSON.parse error when its message says ("line L" or "position N"), else 1. */
function errorLine(text: string, message: string): number {
  const l = /\(line (\d+) column \d+\)/.exec(message);
  if (l) return Number(l[1]);
  const m = /position (\d+)/.exec(message);
  if (!m) return 1;
  let line = 1;
  const at = Math.min(Number(m[1]), text.length);
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Reads one problem folder into an APPS record; a file that is not what it should be is named. */
export function readProblemFolder(dir: string): FolderRecord {
  let bytes = 0;
  const read = (name: string): string | undefined => {
    const file = path.join(dir, name);
    if (!existsSync(file)) return undefined;
    const text = readFileSync(file, 'utf8');
    bytes += Buffer.byteLength(text);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  const question = read('question.txt');
  if (question === undefined) return { ok: false, file: path.join(dir, 'question.txt'), line: 1, reason: 'missing: every APPS problem folder has its question.txt', bytes };
  const record: Record<string, string | number> = { problem_id: problemIdOf(dir), question };
  for (const name of ['solutions.json', 'input_output.json'] as const) {
    const text = read(name);
    // An absent file is "none", as the JSONL release's "" (test problems without solutions).
    if (text === undefined) {
      record[name.replace('.json', '')] = '';
      continue;
    }
    try {
      JSON.parse(text);
    } catch (e) {
      return { ok: false, file: path.join(dir, name), line: errorLine(text, (e as Error).message), reason: `not JSON: ${(e as Error).message}`, bytes };
    }
    record[name.replace('.json', '')] = text;
  }
  const meta = read('metadata.json');
  if (meta !== undefined) {
    let m: unknown;
    try {
      m = JSON.parse(meta);
    } catch (e) {
      return { ok: false, file: path.join(dir, 'metadata.json'), line: errorLine(meta, (e as Error).message), reason: `not JSON: ${(e as Error).message}`, bytes };
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return { ok: false, file: path.join(dir, 'metadata.json'), line: 1, reason: 'expected a JSON object {"difficulty", "url"}', bytes };
    for (const k of ['difficulty', 'url'] as const) {
      const v = (m as Record<string, unknown>)[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') return { ok: false, file: path.join(dir, 'metadata.json'), line: 1, reason: `field '${k}' is not a string`, bytes };
      record[k] = v;
    }
  }
  record.starter_code = read('starter_code.py') ?? '';
  return { ok: true, record, bytes };
}

/** Which file of a problem folder a validator's complaint about a record field is about. */
export function fileOfField(dir: string, reason: string): string {
  if (/'input_output'/.test(reason)) return path.join(dir, 'input_output.json');
  if (/'solutions'/.test(reason)) return path.join(dir, 'solutions.json');
  if (/'question'/.test(reason)) return path.join(dir, 'question.txt');
  if (/'difficulty'|'url'/.test(reason)) return path.join(dir, 'metadata.json');
  return dir;
}

// Dataset formats: detection from a record's fields and one validator per format that turns a
// record into a normalised problem or says precisely what is wrong (docs/datasets.md "Dataset formats").
// Pure: no I/O.
import { createHash } from 'node:crypto';
import type { DatasetFormat } from '../protocol';
import { evalplusTests } from './evalplus';
import { rawElements, rawMember, withoutPythonConstants } from './jsonScan';

export type BaseFormat = Exclude<DatasetFormat, 'history'>;

export interface NormalisedTest {
  kind: 'stdio' | 'call' | 'humaneval' | 'assert';
  input?: string;
  expected?: string;
  fnName?: string;
  code?: string;
  setup?: string;
}

export interface NormalisedProblem {
  externalId: string;
  question: string;
  starterCode: string | null;
  difficulty: string | null;
  url: string | null;
  entryPoint: string | null;
  tests: NormalisedTest[];
  solutions: string[];
  /** Identity of the problem's content (same id + same hash = unchanged on re-import). */
  contentHash: string;
  /** The record as stored (for history records: without `versions`). */
  raw: string;
  /** History records only. */
  history?: { versions: string[]; contentHash: string; raw: string };
}

/** Stored as a test's `setup` when it is the same as the setup of the test before it (EvalPlus
 * problems share one reference and comparison among hundreds of tests): readers of the tests
 * table resolve it (server/exec/store.ts problemTests). A NUL byte cannot start Python code, so
 * it is never a real setup. */
export const SETUP_AS_BEFORE = '\u0000same setup as the test before';

export type Validated = { ok: true; problem: NormalisedProblem } | { ok: false; reason: string };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Rec = Record<string, Json>;

class Invalid extends Error {}

const has = (r: Rec, k: string) => Object.prototype.hasOwnProperty.call(r, k) && r[k] !== null;

/** Which format a record looks like, from its field names alone; undefined when none fits. */
export function detectFormat(r: Rec): DatasetFormat | undefined {
  if (has(r, 'versions')) return 'history';
  return detectBase(r);
}

/** A history's last version plays the reference solution's part, so an APPS record in a history
 * may leave `solutions` out; its tests (`input_output`) must still be read. */
function detectAppsWithoutSolutions(r: Rec): BaseFormat | undefined {
  return has(r, 'problem_id') && has(r, 'question') && has(r, 'input_output') && !has(r, 'solutions') ? 'apps' : undefined;
}

const definesCheck = (test: Json | undefined) => typeof test === 'string' && /^def\s+check\s*\(/m.test(test);

function detectBase(r: Rec): BaseFormat | undefined {
  if (has(r, 'problem_id') && has(r, 'question') && has(r, 'solutions') && has(r, 'input_output')) return 'apps';
  // MBPP before HumanEval: EvalPlus's MBPP+ also carries prompt/canonical_solution/test/entry_point.
  if (has(r, 'task_id') && has(r, 'test_list') && (has(r, 'code') || has(r, 'canonical_solution'))) return 'mbpp';
  // HumanEval's test defines check(candidate); EvalPlus MBPP+ rows have the same fields but an
  // assert script as test, and are MBPP.
  if (has(r, 'task_id') && has(r, 'prompt') && has(r, 'canonical_solution') && has(r, 'entry_point') && definesCheck(r.test)) return 'humaneval';
  if (has(r, 'task_id') && (has(r, 'code') || has(r, 'canonical_solution')) && has(r, 'test')) return 'mbpp';
  // EvalPlus rows without any test of their own: inputs only, outputs from the canonical solution.
  if (isEvalPlus(r)) return /^HumanEval\//i.test(String(r.task_id)) ? 'humaneval' : 'mbpp';
  return undefined;
}

/** An EvalPlus row (MBPP+ / HumanEval+): tests are its inputs, run against the canonical solution. */
function isEvalPlus(r: Rec): boolean {
  return has(r, 'task_id') && has(r, 'canonical_solution') && has(r, 'entry_point') && has(r, 'base_input');
}

export const FORMAT_FIELDS: Record<DatasetFormat, string> = {
  apps: 'problem_id, question, solutions (JSON string), input_output (JSON string)',
  humaneval: 'task_id, prompt, canonical_solution, entry_point, test (defining check(candidate))',
  mbpp: 'task_id, code or canonical_solution, test_list or test (or EvalPlus: canonical_solution, entry_point, base_input)',
  history: 'versions (list of code strings, oldest first) plus an apps / humaneval / mbpp record, or at least task_id or problem_id',
};

// ---- field readers: each throws Invalid with a reason naming the field ----------------------

function typeName(v: Json | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function reqString(r: Rec, k: string): string {
  if (!(k in r)) throw new Invalid(`missing field '${k}'`);
  const v = r[k];
  if (typeof v !== 'string') throw new Invalid(`field '${k}' is ${typeName(v)}, expected a string`);
  return v;
}

function optString(r: Rec, k: string): string | null {
  const v = r[k];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Invalid(`field '${k}' is ${typeName(v)}, expected a string`);
  return v;
}

/** An identifier: APPS uses integers, HumanEval/MBPP strings (or integers in MBPP). */
function reqId(r: Rec, k: string): string {
  if (!(k in r)) throw new Invalid(`missing field '${k}'`);
  const v = r[k];
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '') return v;
  throw new Invalid(`field '${k}' is ${typeName(v)}${typeof v === 'string' ? ' (empty)' : ''}, expected a string or an integer id`);
}

/** `v` as a list of strings, else Invalid(`message`) (plus where it went wrong). */
function stringList(v: Json | undefined, message: string): string[] {
  if (!Array.isArray(v)) throw new Invalid(`${message} (it holds ${typeName(v)})`);
  const bad = v.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) throw new Invalid(`${message} (item ${bad} is ${typeName(v[bad])})`);
  return v as string[];
}

/** APPS stores lists and objects as JSON text inside a string field. */
function jsonStringField(r: Rec, k: string, shape: string): Json | undefined {
  if (!(k in r)) throw new Invalid(`missing field '${k}'`);
  const v = r[k];
  if (typeof v !== 'string') throw new Invalid(`field '${k}' is not a JSON string holding ${shape} (it is ${typeName(v)})`);
  // Real APPS rows use "" for "none" (e.g. test problems without solutions).
  if (v.trim() === '') return undefined;
  try {
    return JSON.parse(v) as Json;
  } catch (e) {
    throw new Invalid(`field '${k}' is not a JSON string holding ${shape}: ${(e as Error).message}`);
  }
}

/** An APPS stdio input/output: a string, or a list of lines the harness joins with "\n". */
function stdioText(v: Json, what: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).join('\n');
  throw new Invalid(`${what} is ${typeName(v)}, expected a string (or a list of lines) for a stdin/stdout problem`);
}

// ---- validators ---------------------------------------------------------------------------

function apps(r: Rec): Omit<NormalisedProblem, 'contentHash' | 'raw'> {
  const externalId = reqId(r, 'problem_id');
  const question = reqString(r, 'question');
  const sol = jsonStringField(r, 'solutions', 'a list of strings');
  const solutions = sol === undefined ? [] : stringList(sol, "field 'solutions' is not a JSON string holding a list of strings");
  const io = jsonStringField(r, 'input_output', 'an object {"inputs": [...], "outputs": [...]}');
  const tests: NormalisedTest[] = [];
  if (io !== undefined) {
    if (io === null || typeof io !== 'object' || Array.isArray(io)) {
      throw new Invalid(`field 'input_output' holds ${typeName(io)}, expected an object {"inputs": [...], "outputs": [...]}`);
    }
    const { inputs, outputs, fn_name: fnName } = io;
    if (!Array.isArray(inputs)) throw new Invalid(`field 'input_output': "inputs" is ${typeName(inputs)}, expected a list`);
    if (!Array.isArray(outputs)) throw new Invalid(`field 'input_output': "outputs" is ${typeName(outputs)}, expected a list`);
    if (inputs.length !== outputs.length) {
      throw new Invalid(`field 'input_output': ${inputs.length} inputs but ${outputs.length} outputs`);
    }
    if (fnName !== undefined && fnName !== null && typeof fnName !== 'string') {
      throw new Invalid(`field 'input_output': "fn_name" is ${typeName(fnName)}, expected a string`);
    }
    inputs.forEach((input, i) => {
      if (typeof fnName === 'string') {
        // Call-based: each input is the argument list.
        if (!Array.isArray(input)) throw new Invalid(`field 'input_output': inputs[${i}] is ${typeName(input)}, expected a list of arguments for fn_name '${fnName}'`);
        tests.push({ kind: 'call', fnName, input: JSON.stringify(input), expected: JSON.stringify(outputs[i]) });
      } else {
        tests.push({
          kind: 'stdio',
          input: stdioText(input, `field 'input_output': inputs[${i}]`),
          expected: stdioText(outputs[i], `field 'input_output': outputs[${i}]`),
        });
      }
    });
  }
  return {
    externalId,
    question,
    starterCode: optString(r, 'starter_code'),
    difficulty: optString(r, 'difficulty'),
    url: optString(r, 'url'),
    entryPoint: null,
    tests,
    solutions,
  };
}

/** The exact texts of an EvalPlus input list (`base_input` / `plus_input`): each an argument list. */
function evalplusInputs(r: Rec, text: string | undefined, key: string, required: boolean): string[] {
  const v = r[key];
  if (v === undefined || v === null) {
    if (required) throw new Invalid(`missing field '${key}'`);
    return [];
  }
  // (an MBPP+ row has `"plus_input": {}` for none, which EvalPlus iterates as nothing)
  if (!required && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return [];
  if (!Array.isArray(v)) throw new Invalid(`field '${key}' is ${typeName(v)}, expected a list of argument lists`);
  const bad = v.findIndex((x) => !Array.isArray(x));
  if (bad >= 0) throw new Invalid(`field '${key}': item ${bad} is ${typeName(v[bad])}, expected a list of arguments`);
  const raw = text !== undefined ? rawMember(text, key) : undefined;
  const items = raw !== undefined ? rawElements(raw) : v.map((x) => JSON.stringify(x));
  if (items.length !== v.length) throw new Invalid(`field '${key}': could not read its ${v.length} items from the text`);
  return items;
}

/** An EvalPlus row's tests: one per input, checked against the canonical solution's output. */
function evalplusTestsOf(r: Rec, text: string | undefined, dataset: 'mbpp' | 'humaneval', taskId: string, entryPoint: string): NormalisedTest[] {
  const atolRaw = text !== undefined ? rawMember(text, 'atol') : undefined;
  if (r.atol !== undefined && r.atol !== null && typeof r.atol !== 'number') throw new Invalid(`field 'atol' is ${typeName(r.atol)}, expected a number`);
  if (!/^[A-Za-z_]\w*$/.test(entryPoint)) throw new Invalid(`field 'entry_point' is not a Python name: ${JSON.stringify(entryPoint).slice(0, 60)}`);
  return evalplusTests({
    dataset,
    taskId,
    entryPoint,
    // What EvalPlus runs to get the expected outputs.
    reference: normaliseNewlines((optString(r, 'prompt') ?? '') + reqString(r, 'canonical_solution')),
    atol: atolRaw ?? String(r.atol ?? 0),
    base: evalplusInputs(r, text, 'base_input', true),
    plus: evalplusInputs(r, text, 'plus_input', false),
  });
}

function humaneval(r: Rec, text?: string): Omit<NormalisedProblem, 'contentHash' | 'raw'> {
  const externalId = reqId(r, 'task_id');
  const prompt = reqString(r, 'prompt');
  const canonical = reqString(r, 'canonical_solution');
  const entryPoint = reqString(r, 'entry_point');
  if (isEvalPlus(r)) {
    return {
      externalId,
      question: prompt,
      starterCode: prompt,
      difficulty: null,
      url: null,
      entryPoint,
      tests: evalplusTestsOf(r, text, 'humaneval', externalId, entryPoint),
      solutions: [prompt + canonical],
    };
  }
  const test = reqString(r, 'test');
  return {
    externalId,
    question: prompt,
    starterCode: prompt,
    difficulty: null,
    url: null,
    entryPoint,
    tests: [definesCheck(test) ? { kind: 'humaneval', code: test, fnName: entryPoint } : { kind: 'assert', code: test }],
    // The reference solution is the whole function: the prompt (signature + docstring) + body.
    solutions: [prompt + canonical],
  };
}

function mbpp(r: Rec, text?: string): Omit<NormalisedProblem, 'contentHash' | 'raw'> {
  const externalId = reqId(r, 'task_id');
  const question = optString(r, 'text') ?? optString(r, 'prompt') ?? '';
  const entryPoint = optString(r, 'entry_point');
  let solution: string;
  // An EvalPlus row's reference is its canonical solution (the one the expected outputs come
  // from), even where it also carries MBPP's original `code`.
  if (has(r, 'code') && !isEvalPlus(r)) solution = reqString(r, 'code');
  else {
    const canonical = reqString(r, 'canonical_solution');
    const prompt = optString(r, 'prompt');
    // EvalPlus bodies continue the prompt's signature; a solution that defines the entry point
    // at the top level stands alone.
    const complete = entryPoint ? new RegExp(`^def\\s+${entryPoint.replace(/[^\w]/g, '\\$&')}\\s*\\(`, 'm').test(canonical) : /^def\s/m.test(canonical);
    solution = !complete && prompt ? prompt + canonical : canonical;
  }
  const imports = r.test_imports;
  const setupParts: string[] = [];
  const setupCode = optString(r, 'test_setup_code');
  if (setupCode) setupParts.push(setupCode);
  if (imports !== undefined && imports !== null) setupParts.push(...stringList(imports, "field 'test_imports' is not a list of strings"));
  const setup = setupParts.length > 0 ? setupParts.join('\n') : undefined;
  const tests: NormalisedTest[] = [];
  if (isEvalPlus(r)) {
    // EvalPlus's harness checks MBPP+ on its inputs only (its test_list / test are not run).
    if (!entryPoint) throw new Invalid(`missing field 'entry_point'`);
    tests.push(...evalplusTestsOf(r, text, 'mbpp', externalId, entryPoint));
  } else if (has(r, 'test_list')) {
    for (const code of stringList(r.test_list, "field 'test_list' is not a list of strings")) tests.push({ kind: 'assert', code, ...(setup ? { setup } : {}) });
    if (has(r, 'challenge_test_list')) {
      for (const code of stringList(r.challenge_test_list, "field 'challenge_test_list' is not a list of strings")) tests.push({ kind: 'assert', code, ...(setup ? { setup } : {}) });
    }
  } else {
    const test = reqString(r, 'test');
    // EvalPlus-style `test` defines check(candidate) like HumanEval; otherwise it is an assert script.
    if (definesCheck(test)) tests.push({ kind: 'humaneval', code: test, ...(entryPoint ? { fnName: entryPoint } : {}), ...(setup ? { setup } : {}) });
    else tests.push({ kind: 'assert', code: test, ...(setup ? { setup } : {}) });
  }
  return { externalId, question, starterCode: null, difficulty: null, url: null, entryPoint, tests, solutions: [solution] };
}

/** A history record without a recognisable base: an id, optional question/prompt and versions. */
function bareHistoryBase(r: Rec): Omit<NormalisedProblem, 'contentHash' | 'raw'> {
  const idField = has(r, 'task_id') ? 'task_id' : has(r, 'problem_id') ? 'problem_id' : undefined;
  if (!idField) throw new Invalid(`missing field 'task_id' (or 'problem_id'): a history record needs an id`);
  return {
    externalId: reqId(r, idField),
    question: optString(r, 'question') ?? optString(r, 'prompt') ?? optString(r, 'text') ?? '',
    starterCode: optString(r, 'starter_code'),
    difficulty: optString(r, 'difficulty'),
    url: optString(r, 'url'),
    entryPoint: optString(r, 'entry_point'),
    tests: [],
    solutions: [],
  };
}

const VALIDATORS: Record<BaseFormat, (r: Rec, text?: string) => Omit<NormalisedProblem, 'contentHash' | 'raw'>> = { apps, humaneval, mbpp };

/** JSON with object keys sorted, so the hash ignores key order and whitespace. */
function canonicalJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Parses one record's text; `{ ok: false, reason }` for anything that is not a JSON object.
 * Python's `json.dumps` extensions NaN / Infinity are accepted (EvalPlus inputs hold them); the
 * fields then read as null, and exact values come from the text (`rawMember`). */
export function parseLine(text: string, what = 'line'): { ok: true; record: Rec } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const tolerant = withoutPythonConstants(text);
    try {
      if (tolerant === text) throw e;
      v = JSON.parse(tolerant);
    } catch {
      return { ok: false, reason: `${what} is not JSON: ${(e as Error).message}` };
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, reason: `${what} is ${typeName(v as Json)}, expected a JSON object` };
  return { ok: true, record: v as Rec };
}

/** CRLF and lone CR as LF. Python reads source that way (compile() turns both into "\n"), so a
 * program behaves the same; prompts and cuts no longer carry stray "\r". The record as published
 * stays in `raw`. */
export function normaliseNewlines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

/** The problem with its code and text fields in LF (stdin/stdout test data stay byte for byte:
 * a program may see them). */
function withLfNewlines(p: Omit<NormalisedProblem, 'contentHash' | 'raw'>): Omit<NormalisedProblem, 'contentHash' | 'raw'> {
  const n = (s: string | null) => (s === null ? null : normaliseNewlines(s));
  return {
    ...p,
    question: normaliseNewlines(p.question),
    starterCode: n(p.starterCode),
    tests: p.tests.map((t) => ({
      ...t,
      ...(t.code !== undefined ? { code: normaliseNewlines(t.code) } : {}),
      ...(t.setup !== undefined ? { setup: normaliseNewlines(t.setup) } : {}),
    })),
    solutions: p.solutions.map(normaliseNewlines),
  };
}

/** Validates a record as `format` and normalises it. `text` is the record's JSON text, when
 * known: values that must stay exact (EvalPlus inputs) are read from it. */
export function validateRecord(r: Rec, format: DatasetFormat, text?: string): Validated {
  try {
    if (format !== 'history') {
      const p = VALIDATORS[format](r, text);
      const json = canonicalJson(r);
      // The hash is of the parsed record (key order and spacing do not make a record new); `raw`
      // is the record's own text when the file gave one, so values JSON.parse cannot hold
      // (integers past 2^53, NaN, Infinity) are kept as published.
      return { ok: true, problem: { ...withLfNewlines(p), contentHash: sha256(json), raw: text ?? json } };
    }
    if (!('versions' in r)) throw new Invalid(`missing field 'versions' (a list of code strings, oldest first)`);
    const versions = stringList(r.versions, "field 'versions' is not a list of code strings");
    if (versions.length === 0) throw new Invalid(`field 'versions' is empty; a history needs at least one version`);
    const { versions: _v, ...rest } = r;
    const base = detectBase(rest) ?? detectAppsWithoutSolutions(rest);
    // (an APPS row marks "no solutions" with an empty string, which the validator reads as none)
    const p = base ? VALIDATORS[base](base === 'apps' && !has(rest, 'solutions') ? { ...rest, solutions: '' } : rest, text) : bareHistoryBase(rest);
    // The problem is identified by its normalised content, so several histories of one problem
    // (records that differ only in versions or per-history fields) share one problem row. (The
    // content as read, before line endings are normalised, so a file imported before keeps its id.)
    const problemJson = canonicalJson({
      question: p.question,
      starter_code: p.starterCode,
      difficulty: p.difficulty,
      url: p.url,
      entry_point: p.entryPoint,
      tests: p.tests as unknown as Json,
      solutions: p.solutions,
    });
    const historyJson = canonicalJson(r);
    return {
      ok: true,
      problem: {
        ...withLfNewlines(p),
        contentHash: sha256(problemJson),
        raw: canonicalJson(rest),
        history: { versions: versions.map(normaliseNewlines), contentHash: sha256(historyJson), raw: historyJson },
      },
    };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    throw e;
  }
}

// Format detection and the per-format validators (pure, no database).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat, parseLine, validateRecord } from '../../../server/import/formats';
import { datasetNameOf } from '../../../server/import/importer';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
const records = (name: string) =>
  readFileSync(path.join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, never>);

function ok(r: Record<string, unknown>, format: Parameters<typeof validateRecord>[1]) {
  const v = validateRecord(r as never, format);
  if (!v.ok) throw new Error(`expected ok, got: ${v.reason}`);
  return v.problem;
}
function reason(r: Record<string, unknown>, format: Parameters<typeof validateRecord>[1]): string {
  const v = validateRecord(r as never, format);
  if (v.ok) throw new Error('expected a bad record');
  return v.reason;
}

describe('detectFormat', () => {
  it('recognises each fixture file by its fields', () => {
    expect(records('apps-mini.jsonl').map(detectFormat)).toEqual(['apps', 'apps', 'apps', 'apps']);
    expect(records('humaneval-mini.jsonl').map(detectFormat)).toEqual(['humaneval', 'humaneval']);
    expect(records('mbpp-mini.jsonl').map(detectFormat)).toEqual(['mbpp', 'mbpp']);
    // MBPP+ rows carry HumanEval's fields; the assert-script test makes them MBPP, a check() test HumanEval.
    expect(records('evalplus-mbpp-mini.jsonl').map(detectFormat)).toEqual(['mbpp', 'humaneval']);
    expect(records('history-mini.jsonl').map(detectFormat)).toEqual(['history', 'history', 'history', 'history']);
  });
  it('returns undefined for records of no known shape', () => {
    expect(detectFormat({ id: 1, text: 'x' } as never)).toBeUndefined();
    // a null field counts as absent
    expect(detectFormat({ problem_id: 1, question: 'q', solutions: null, input_output: '{}' } as never)).toBeUndefined();
  });
});

describe('parseLine', () => {
  it('names the JSON error', () => {
    const r = parseLine('{"a": 1,');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^line is not JSON: /);
  });
  it('rejects JSON that is not an object', () => {
    expect(parseLine('[1]')).toEqual({ ok: false, reason: 'line is a list, expected a JSON object' });
    expect(parseLine('"x"')).toEqual({ ok: false, reason: 'line is a string, expected a JSON object' });
  });
});

describe('apps', () => {
  const [sum, pal, twoSum, noSolutions] = records('apps-mini.jsonl');
  it('normalises a stdin/stdout problem', () => {
    const p = ok(sum, 'apps');
    expect(p.externalId).toBe('4001');
    expect(p.solutions).toHaveLength(2);
    expect(p.tests).toEqual([
      { kind: 'stdio', input: '3\n1 2 3\n', expected: '6\n' },
      { kind: 'stdio', input: '1\n-5\n', expected: '-5\n' },
      { kind: 'stdio', input: '0\n\n', expected: '0\n' },
    ]);
    expect(p.difficulty).toBe('introductory');
    expect(p.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });
  it('joins list-valued stdio inputs with newlines, as the APPS harness does', () => {
    expect(ok(pal, 'apps').tests[0]).toEqual({ kind: 'stdio', input: 'abba', expected: 'YES' });
  });
  it('makes call-based tests from fn_name', () => {
    const p = ok(twoSum, 'apps');
    expect(p.tests).toEqual([
      { kind: 'call', fnName: 'twoSum', input: '[[2,7,11,15],9]', expected: '[0,1]' },
      { kind: 'call', fnName: 'twoSum', input: '[[3,2,4],6]', expected: '[1,2]' },
    ]);
    expect(p.starterCode).toContain('class Solution');
  });
  it('accepts "" for no solutions (APPS test split)', () => {
    expect(ok(noSolutions, 'apps').solutions).toEqual([]);
  });
  it('gives precise reasons', () => {
    expect(reason({ ...sum, solutions: ['x'] }, 'apps')).toBe("field 'solutions' is not a JSON string holding a list of strings (it is a list)");
    expect(reason({ ...sum, solutions: '{"a": 1}' }, 'apps')).toBe("field 'solutions' is not a JSON string holding a list of strings (it holds an object)");
    expect(reason({ ...sum, solutions: '["a", 2]' }, 'apps')).toBe("field 'solutions' is not a JSON string holding a list of strings (item 1 is a number)");
    expect(reason({ ...sum, solutions: '[oops' }, 'apps')).toMatch(/^field 'solutions' is not a JSON string holding a list of strings: /);
    const { input_output: _io, ...noIo } = sum;
    expect(reason(noIo, 'apps')).toBe("missing field 'input_output'");
    expect(reason({ ...sum, question: 5 }, 'apps')).toBe("field 'question' is a number, expected a string");
    expect(reason({ ...sum, problem_id: 1.5 }, 'apps')).toMatch(/^field 'problem_id' is a number, expected a string or an integer id/);
    expect(reason({ ...sum, input_output: JSON.stringify({ inputs: ['1'], outputs: [] }) }, 'apps')).toBe("field 'input_output': 1 inputs but 0 outputs");
    expect(reason({ ...twoSum, input_output: JSON.stringify({ fn_name: 'f', inputs: [3], outputs: [3] }) }, 'apps')).toMatch(
      /inputs\[0\] is a number, expected a list of arguments for fn_name 'f'/,
    );
  });
  it('hashes content, not key order or spacing', () => {
    const a = ok(sum, 'apps');
    const reordered = Object.fromEntries(Object.entries(sum).reverse());
    expect(ok(reordered, 'apps').contentHash).toBe(a.contentHash);
    expect(ok({ ...sum, question: `${sum.question as string} ` }, 'apps').contentHash).not.toBe(a.contentHash);
  });
});

describe('humaneval', () => {
  it('stores prompt + canonical_solution as the reference and check() as the test', () => {
    const [he0] = records('humaneval-mini.jsonl');
    const p = ok(he0, 'humaneval');
    expect(p.externalId).toBe('HumanEval/0');
    expect(p.entryPoint).toBe('has_close_elements');
    expect(p.solutions[0]).toBe((he0.prompt as string) + (he0.canonical_solution as string));
    expect(p.tests).toEqual([{ kind: 'humaneval', code: he0.test, fnName: 'has_close_elements' }]);
  });
  it('names a missing field', () => {
    const [he0] = records('humaneval-mini.jsonl');
    const { entry_point: _e, ...rest } = he0;
    expect(reason(rest, 'humaneval')).toBe("missing field 'entry_point'");
  });
});

describe('mbpp / EvalPlus', () => {
  it('turns test_list (and challenge tests) into asserts with the setup code', () => {
    const [, m3] = records('mbpp-mini.jsonl');
    const p = ok(m3, 'mbpp');
    expect(p.externalId).toBe('3');
    expect(p.question).toBe('Write a python function to identify non-prime numbers.');
    // MBPP's CRLF line endings become LF (Python reads source that way); the raw record keeps them.
    expect(m3.code).toContain('\r\n');
    expect(p.solutions).toEqual([(m3.code as string).replace(/\r\n/g, '\n')]);
    expect(JSON.parse(p.raw).code).toBe(m3.code);
    expect(p.tests).toHaveLength(4);
    expect(p.tests[3]).toEqual({ kind: 'assert', code: 'assert is_not_prime(37) == False', setup: 'import math' });
  });
  it('completes EvalPlus bodies with the prompt, keeps complete functions as they are', () => {
    const [plus2, plus3] = records('evalplus-mbpp-mini.jsonl');
    const p2 = ok(plus2, 'mbpp');
    expect(p2.solutions).toEqual([plus2.canonical_solution]);
    expect(p2.tests[0].kind).toBe('assert');
    const p3 = ok(plus3, 'mbpp');
    expect(p3.solutions).toEqual([(plus3.prompt as string) + (plus3.canonical_solution as string)]);
    expect(p3.tests[0]).toMatchObject({ kind: 'humaneval', fnName: 'is_not_prime' });
  });
  it('rejects a test_list that is not a list of strings', () => {
    const [m2] = records('mbpp-mini.jsonl');
    expect(reason({ ...m2, test_list: 'assert x' }, 'mbpp')).toBe("field 'test_list' is not a list of strings (it holds a string)");
  });
});

describe('history', () => {
  const hs = records('history-mini.jsonl');
  it('keeps the base record and the versions, oldest first', () => {
    const p = ok(hs[0], 'history');
    expect(p.externalId).toBe('4002');
    expect(p.tests).toHaveLength(2);
    expect(p.history?.versions).toEqual(hs[0].versions);
  });
  it('gives two histories of one problem the same problem hash and different history hashes', () => {
    const a = ok(hs[0], 'history');
    const b = ok(hs[1], 'history');
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.history?.contentHash).not.toBe(b.history?.contentHash);
  });
  it('accepts a bare record with an id and versions', () => {
    const p = ok(hs[3], 'history');
    expect(p.externalId).toBe('scratch/7');
    expect(p.question).toBe('Return the maximum of a list.');
    expect(p.solutions).toEqual([]);
  });
  it('reads the tests of an APPS record that has no solutions (the versions stand in for them)', () => {
    const { solutions: _s, ...noSolutions } = hs[0];
    const p = ok(noSolutions, 'history');
    expect(p.externalId).toBe('4002');
    expect(p.tests).toHaveLength(2);
    expect(p.solutions).toEqual([]);
  });
  it('requires a non-empty list of code strings', () => {
    const { versions: _v, ...base } = hs[0];
    expect(reason(base, 'history')).toBe("missing field 'versions' (a list of code strings, oldest first)");
    expect(reason({ ...base, versions: [] }, 'history')).toBe("field 'versions' is empty; a history needs at least one version");
    expect(reason({ ...base, versions: ['a', 3] }, 'history')).toBe("field 'versions' is not a list of code strings (item 1 is a number)");
    expect(reason({ versions: ['x'] }, 'history')).toBe("missing field 'task_id' (or 'problem_id'): a history record needs an id");
  });
  it('validates the base record too', () => {
    expect(reason({ ...hs[0], solutions: ['x'] }, 'history')).toBe("field 'solutions' is not a JSON string holding a list of strings (it is a list)");
  });
});

describe('datasetNameOf', () => {
  it('drops .jsonl / .json / .gz', () => {
    expect(datasetNameOf('/data/apps/train.jsonl')).toBe('train');
    expect(datasetNameOf('HumanEval.jsonl.gz')).toBe('HumanEval');
    expect(datasetNameOf('x/mbpp.json')).toBe('mbpp');
    expect(datasetNameOf('notes.txt')).toBe('notes.txt');
  });
});

// MBPP+ and HumanEval+ as EvalPlus publishes them: `base_input` and `plus_input` (lists of
// argument lists), `atol`, and no expected outputs — EvalPlus's harness computes them by running
// the canonical solution (prompt + canonical_solution) on each input, then compares the
// candidate's output with them (docs/datasets.md "EvalPlus"). Here each input becomes one
// `assert` test whose check runs the reference and the candidate on (deep copies of) that
// input in the sandbox and compares them the way EvalPlus does. Pure: builds test texts only.
import type { NormalisedTest } from './formats';

/** How an MBPP+ task's JSON inputs get the Python types JSON cannot hold back (tuples, sets,
 * complex numbers), as EvalPlus's reader restores them; tasks not listed take the inputs as
 * parsed. Keyed by the number in `Mbpp/N`. */
type Restore =
  | 'each_arg_tuple'
  | 'each_arg_items_tuple'
  | 'first_arg_items_tuple'
  | 'second_arg_tuple'
  | 'first_arg_items_set'
  | 'float_complex'
  | 'first_arg_tuple'
  | 'each_arg_tuple_of_tuples'
  | 'first_arg_tuple_of_tuples'
  | 'first_arg_dict_values_tuple'
  | 'complex'
  | 'all_lists_tuple';

const MBPP_RESTORE: ReadonlyMap<number, Restore> = new Map<number, Restore>([
  ...[2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809].map((n): [number, Restore] => [n, 'each_arg_tuple']),
  ...[63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780].map((n): [number, Restore] => [n, 'each_arg_items_tuple']),
  ...[75, 413, 444, 753].map((n): [number, Restore] => [n, 'first_arg_items_tuple']),
  ...[106, 750].map((n): [number, Restore] => [n, 'second_arg_tuple']),
  [115, 'first_arg_items_set'],
  [124, 'float_complex'],
  ...[250, 307, 405, 446, 617, 720, 763, 808].map((n): [number, Restore] => [n, 'first_arg_tuple']),
  ...[259, 401, 445].map((n): [number, Restore] => [n, 'each_arg_tuple_of_tuples']),
  [278, 'first_arg_tuple_of_tuples'],
  [722, 'first_arg_dict_values_tuple'],
  [252, 'complex'],
  ...[580, 615, 791].map((n): [number, Restore] => [n, 'all_lists_tuple']),
]);

/** The Python body of `_pf_args(inp)` for each way of restoring types. */
const RESTORE_PY: Record<Restore | 'none', string> = {
  none: 'return inp',
  each_arg_tuple: 'return [tuple(a) for a in inp]',
  each_arg_items_tuple: 'return [[tuple(x) for x in a] for a in inp]',
  first_arg_items_tuple: 'return [[tuple(x) for x in inp[0]]] + list(inp[1:])',
  second_arg_tuple: 'return [inp[0], tuple(inp[1])] + list(inp[2:])',
  // EvalPlus's own rule, {} (an empty dict) for an empty set included.
  first_arg_items_set: 'return [[set(x) if isinstance(x, list) and len(x) else {} for x in inp[0]]] + list(inp[1:])',
  float_complex: 'return [float(inp[0]), complex(inp[1])]',
  first_arg_tuple: 'return [tuple(inp[0])] + list(inp[1:])',
  each_arg_tuple_of_tuples: 'return [tuple(tuple(x) for x in a) for a in inp]',
  first_arg_tuple_of_tuples: 'return [tuple(tuple(x) if isinstance(x, list) else x for x in inp[0])]',
  first_arg_dict_values_tuple: 'return [{k: tuple(v) for k, v in inp[0].items()}] + list(inp[1:])',
  complex: 'return [complex(inp[0])]',
  all_lists_tuple: 'return _pf_tuples(inp)',
};

/** EvalPlus's per-task output checks where equality with the reference is not the right test,
 * by entry point (MBPP+): set equality where the order is free; "returns something" where the
 * output is not comparable; fixes of ground truths it found wrong; and HumanEval+'s find_zero
 * (|poly(xs, x)| <= atol). Each is a Python statement run after `e = out == exp` (as a bool) with
 * `atol`, `out`, `exp`, `inp` in scope; it sets `e` or returns. */
const MBPP_SET_EQUAL = new Set(['similar_elements', 'find_char_long', 'common_in_nested_lists', 'extract_singly', 'larg_nnum', 'intersection_array', 'find_dissimilar', 'Diff']);
const MBPP_NOT_NONE = new Set(['check_str', 'text_match_three', 'text_starta_endb']);
const MBPP_ORACLES: Readonly<Record<string, string>> = {
  are_equivalent: 'e = True',
  sum_div: 'e = e or out == 0',
  surface_Area: "s = __import__('math').sqrt((inp[0] / 2) ** 2 + inp[1] ** 2)\ne = e or abs(out - round(inp[0] ** 2 + 2 * inp[0] * s)) <= atol",
  digit_distance_nums: "x, y = str(inp[0]), str(inp[1])\nw = max(len(x), len(y))\ne = e or out == sum(abs(int(p) - int(q)) for p, q in zip(x.zfill(w), y.zfill(w)))",
};

function oracle(dataset: 'mbpp' | 'humaneval', entry: string): { statement: string; notNone: boolean } {
  if (dataset === 'humaneval') {
    const poly = "return abs(sum(c * __import__('math').pow(out, i) for i, c in enumerate(inp[0]))) <= atol";
    return { statement: entry === 'find_zero' ? poly : '', notNone: false };
  }
  if (MBPP_SET_EQUAL.has(entry)) return { statement: 'e = set(out) == set(exp)', notNone: false };
  if (MBPP_NOT_NONE.has(entry)) return { statement: 'e = out == exp if isinstance(out, bool) else exp == (out is not None)', notNone: true };
  return { statement: MBPP_ORACLES[entry] ?? '', notNone: false };
}

/** A Python string literal holding `s` (JSON's escapes are Python's too). */
export function pyString(s: string): string {
  return JSON.stringify(s);
}

const indent = (body: string, by: string) =>
  body
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

/** The code every test of one EvalPlus problem shares (a test's `setup`, run after the
 * candidate): the reference in a namespace of its own (so the candidate's names cannot change
 * it), and the comparison; `_pf_check(candidate, inp)` runs both on one input and compares. Kept
 * short: every test row holds a copy. */
export function evalplusSetup(opts: { dataset: 'mbpp' | 'humaneval'; taskId: string; entryPoint: string; reference: string; atol: string }): string {
  const n = /(\d+)\s*$/.exec(opts.taskId);
  const restore = opts.dataset === 'mbpp' && n ? (MBPP_RESTORE.get(Number(n[1])) ?? 'none') : 'none';
  const o = oracle(opts.dataset, opts.entryPoint);
  const atol = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(opts.atol.trim()) ? opts.atol.trim() : '0';
  const special = o.statement ? `    try:\n${indent(o.statement, '        ')}\n    except Exception:\n        return False\n` : '';
  return `# EvalPlus ${opts.taskId}: the expected output is the reference's (prompt + canonical_solution)
import copy as _pf_copy, json as _pf_json
_pf_ns = {'__name__': 'reference'}
exec(compile(${pyString(opts.reference)}, '<reference>', 'exec'), _pf_ns)
${restore === 'all_lists_tuple' ? '_pf_tuples = lambda x: tuple(_pf_tuples(i) for i in x) if isinstance(x, list) else x\n' : ''}def _pf_args(inp):
    ${RESTORE_PY[restore]}
def _pf_close(a, b, atol):  # numpy.allclose(a, b, rtol=1e-07, atol=atol)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) and all(_pf_close(x, y, atol) for x, y in zip(a, b))
    n = (int, float, complex)
    return isinstance(a, n) and isinstance(b, n) and (a == b or (a == a and b == b and abs(b) != float('inf') and abs(a - b) <= atol + 1e-07 * abs(b)))
def _pf_same(out, exp, inp, atol=${atol}):
    try:
        e = bool(out == exp)
    except Exception:
        e = False
${special}    if atol == 0 and (isinstance(exp, float) or (isinstance(exp, (list, tuple)) and exp and all(isinstance(i, float) for i in exp))):
        atol = 1e-6
    if e or atol == 0:
        return e
    return type(out) is type(exp) and (not isinstance(exp, (list, tuple)) or len(out) == len(exp)) and _pf_close(out, exp, atol)
def _pf_check(candidate, inp):
    inp = _pf_args(inp)
    r = lambda x: (lambda s: s if len(s) <= 300 else s[:300] + '...')(repr(x))
    try:
        exp = _pf_ns[${pyString(opts.entryPoint)}](*_pf_copy.deepcopy(inp))
    except Exception as x:
        raise RuntimeError('the reference fails on input %s: %s: %s' % (r(inp), type(x).__name__, x)) from None
${o.notNone ? '    exp = exp is not None\n' : ''}    out = candidate(*_pf_copy.deepcopy(inp))
    assert _pf_same(out, exp, inp), 'input %s: expected %s, got %s' % (r(inp), r(exp), r(out))
`;
}

/** One `assert` test per input, base inputs first: the shared check on that input. (Not a
 * `humaneval` test: its `check` would hide an entry point of that name, as in MBPP 56.) */
export function evalplusTests(opts: {
  dataset: 'mbpp' | 'humaneval';
  taskId: string;
  entryPoint: string;
  reference: string;
  atol: string;
  base: readonly string[];
  plus: readonly string[];
}): NormalisedTest[] {
  const setup = evalplusSetup(opts);
  const test = (which: 'base_input' | 'plus_input', i: number, raw: string): NormalisedTest => ({
    kind: 'assert',
    setup,
    code: `# ${opts.taskId} ${which}[${i}]\n_pf_check(${opts.entryPoint}, _pf_json.loads(${pyString(raw)}))\n`,
  });
  return [...opts.base.map((raw, i) => test('base_input', i, raw)), ...opts.plus.map((raw, i) => test('plus_input', i, raw))];
}

// The `clean` truncation follows Python's logical lines: continuation lines inside brackets,
// strings and after a backslash never end a block, whatever their indentation; the published
// `structurecoder` rule (every physical line counts) is kept as it is.
import { describe, expect, it } from 'vitest';
import { postProcess, scanLine, truncateBlock, type LineState } from '../../../server/sampling/postprocess';
import { startOf } from '../../../server/sampling/prompts';

/** The golden middle written back after the preset's start, then post-processed, with a run-on
 * into the code after the block as models do. */
function back(kind: string, mid: string, preset: 'structurecoder' | 'clean', runOn = ''): string {
  const start = startOf(mid, preset);
  const kw = /[A-Za-z_]\w*$/.exec(start)![0];
  return postProcess(kind, start, mid.slice(mid.indexOf(kw) + kw.length) + runOn, { preset });
}

const state = (): LineState => ({ depth: 0, quote: null, backslash: false });

describe('clean truncation: logical lines', () => {
  // MBPP 367 (is_tree_balanced), as the dataset holds it (CR line endings normalised under clean).
  const mbpp367 = '\tif (abs(lh - rh) <= 1) and is_tree_balanced( \n\troot.left) is True and is_tree_balanced( root.right) is True: \n\t\treturn True';

  it('keeps a continuation line inside open brackets at the block\'s own indentation (MBPP 367)', () => {
    expect(back('if', mbpp367, 'clean', '\n\treturn False\n')).toBe(mbpp367);
    // the published rule cuts it at the continuation line, as before (structurecoder is unchanged)
    const sc = '    if (a and f( \n    x)):\n        return True';
    expect(back('if', sc, 'structurecoder', '\n    return False')).toBe('    if (a and f(');
    expect(back('if', sc, 'clean', '\n    return False')).toBe(sc);
  });

  it('keeps continuation lines left of the block, in every kind of bracket, and still ends the block at the next logical line', () => {
    const mid = '    for x in [1,\n2, {\n"k": (3,\n4)}]:\n        total += x';
    expect(back('for', mid, 'clean', '\n    return total\n')).toBe(mid);
    // the closing bracket returns to depth 0: the next line at the block's level ends it
    expect(truncateBlock('if', '    if f(a,\nb):\n        y = 1\n    z = 2', 'clean')).toBe('    if f(a,\nb):\n        y = 1');
    // a bracket opened in the body continues too
    expect(truncateBlock('def', 'def f(a):\n    return g(a,\na)\nprint(f(1))', 'clean')).toBe('def f(a):\n    return g(a,\na)');
  });

  it('keeps the lines of a triple-quoted string, whatever their indentation, and of a single-quoted one continued by a backslash', () => {
    const doc = 'def f():\n    """Doc.\nat column 0 \'\'\' still inside\n    """\n    return 1';
    expect(back('def', doc, 'clean', '\nprint(f())')).toBe(doc);
    const single = "\tif x:\n\t\ts = 'ab\\\ncd'\n\t\ty = 1";
    expect(truncateBlock('if', `${single}\n\tz = 2`, 'clean')).toBe(single);
    const triple = "\tif x:\n\t\ts = '''a\n\tb'''\n\t\ty = 1";
    expect(truncateBlock('if', `${triple}\n\tz = 2`, 'clean')).toBe(triple);
  });

  it('keeps a line continued by a backslash, also at the block\'s indentation (with or without \\r)', () => {
    const mid = '\tif a and \\\n\tb:\n\t\treturn 1';
    expect(back('if', mid, 'clean', '\n\treturn 0')).toBe(mid);
    expect(truncateBlock('while', '  while a \\\r\n  and b:\r\n    a -= 1\r\n  print(a)', 'clean')).toBe('  while a \\\r\n  and b:\r\n    a -= 1');
  });

  it('does not count brackets, quotes or backslashes inside strings and comments', () => {
    expect(truncateBlock('if', '    if x:  # (\n        y = "(["\n        z = \'it\\\'s {\'\n    w = 1', 'clean')).toBe('    if x:  # (\n        y = "(["\n        z = \'it\\\'s {\'');
    expect(truncateBlock('if', '    if x:\n        y = r"\\"("\n    w = 1', 'clean')).toBe('    if x:\n        y = r"\\"("');
    expect(truncateBlock('if', '    if x:\n        y = 1  # a \\\n    w = 1', 'clean')).toBe('    if x:\n        y = 1  # a \\');
  });

  it('does not let broken code run on: an unterminated single-quoted string ends with its line, extra closing brackets count as none', () => {
    expect(truncateBlock('if', "    if x:\n        y = 'abc\n    w = 1", 'clean')).toBe("    if x:\n        y = 'abc");
    expect(truncateBlock('if', '    if x:\n        y = 1))\n    w = (1,\n2)', 'clean')).toBe('    if x:\n        y = 1))');
  });

  it('ignores the indentation of blank and comment-only lines as Python does: kept when the block goes on, dropped when it ends', () => {
    expect(truncateBlock('for', '    for x in y:\n        a = 1\n# note\n\n        b = 2\n    c = 3', 'clean')).toBe('    for x in y:\n        a = 1\n# note\n\n        b = 2');
    expect(truncateBlock('for', '    for x in y:\n        a = 1\n# note\n    c = 3', 'clean')).toBe('    for x in y:\n        a = 1');
    // the published rule ends the block at the comment line
    expect(truncateBlock('for', '    for x in y:\n        a = 1\n# note\n        b = 2', 'structurecoder')).toBe('    for x in y:\n        a = 1');
  });

  it('keeps the continuation clauses at logical line starts only', () => {
    expect(truncateBlock('if', '\tif f(a,\n\telse_b):\n\t\tx = 1\n\telse:\n\t\tx = 2\n\tprint(x)', 'clean')).toBe('\tif f(a,\n\telse_b):\n\t\tx = 1\n\telse:\n\t\tx = 2');
    expect(truncateBlock('try', '    try:\n        x = (1,\n    2)\n    except E:\n        pass\n    y = 1', 'clean')).toBe('    try:\n        x = (1,\n    2)\n    except E:\n        pass');
  });

  it('scans a line as the tokenizer does', () => {
    expect(scanLine('f(a, [b', state())).toEqual({ depth: 2, quote: null, backslash: false });
    expect(scanLine('x = """abc', state())).toEqual({ depth: 0, quote: '"""', backslash: false });
    expect(scanLine('end""" + (1', { depth: 0, quote: '"""', backslash: false })).toEqual({ depth: 1, quote: null, backslash: false });
    expect(scanLine("s = 'a\\", state())).toEqual({ depth: 0, quote: "'", backslash: false });
    expect(scanLine('x = 1 + \\', state())).toEqual({ depth: 0, quote: null, backslash: true });
    expect(scanLine('x = "\\\\" # (', state())).toEqual({ depth: 0, quote: null, backslash: false });
  });
});

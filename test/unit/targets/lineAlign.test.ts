// Placing a target's cut-code lines back onto the stored document (comments dropped by the cut).
import { describe, expect, it } from 'vitest';
import { alignCutLines, cutCodeOf } from '../../../server/targets/lineAlign';
import { stripCommentsStructureCoder, pyStrip } from '../../../server/blocks/cut';

describe('cut-line alignment', () => {
  it('maps the structurecoder cut code back onto the stored solution (comments dropped, inline comments cut, leading blank lines)', () => {
    const doc = ['', '# read input', 'n = int(input())  # count', 'total = 0', '', 'for i in range(n):', '    # odd only', '    if i % 2:', '        total += i', 'print(total)', ''].join('\n');
    const cut = pyStrip(stripCommentsStructureCoder(doc));
    expect(cut.split('\n')).toEqual(['n = int(input())', 'total = 0', '', 'for i in range(n):', '    if i % 2:', '        total += i', 'print(total)']);
    expect(alignCutLines(doc, cut)).toEqual([2, 3, 4, 5, 7, 8, 9]);
  });

  it('is the identity when nothing was removed, and leaves lines it cannot find unmapped', () => {
    const code = 'def f(x):\n    if x:\n        return 1\n    return 2\n';
    expect(alignCutLines(code, code)).toEqual([0, 1, 2, 3, 4]);
    // A reformatted line (Black) is not found; later identical lines still are.
    expect(alignCutLines('x = [1,2]\ny = 3\n', 'x = [1, 2]\ny = 3')).toEqual([undefined, 1]);
    // A blank cut line never lands on a dropped comment line.
    expect(alignCutLines('a = 1\n# c\n\nb = 2', 'a = 1\n\nb = 2')).toEqual([0, 2, 3]);
  });

  it('rebuilds the cut code from a target, without the lone "\\n" prefix quirk', () => {
    expect(cutCodeOf({ pre: '\n', mid: 'for x in y:\n    pass', suf: '\nprint(1)', start_line: 0 })).toBe('for x in y:\n    pass\nprint(1)');
    expect(cutCodeOf({ pre: 'a = 1\n', mid: 'if a:\n    a = 2', suf: '\n', start_line: 1 })).toBe('a = 1\nif a:\n    a = 2\n');
  });
});

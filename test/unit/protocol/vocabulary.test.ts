// The protocol's vocabulary helpers: the header comment that links a file to a problem.
import { describe, expect, it } from 'vitest';
import { parseProblemHeader, problemHeader } from '../../../server/protocol';

describe('problem link header', () => {
  it('finds "# pairforge-problem: <dataset>/<id>" in the first five lines; ids may hold slashes', () => {
    expect(parseProblemHeader('# pairforge-problem: demo-apps/9001\nx = 1\n')).toEqual({ dataset: 'demo-apps', externalId: '9001', line: 0 });
    expect(parseProblemHeader('#!/usr/bin/env python3\n"""doc"""\n#pairforge-problem:  he/HumanEval/0  \r\n')).toEqual({ dataset: 'he', externalId: 'HumanEval/0', line: 2 });
    expect(parseProblemHeader('a\nb\nc\nd\ne\n# pairforge-problem: x/1\n')).toBeUndefined();
    expect(parseProblemHeader('# pairforge-problem: nodataset\n')).toBeUndefined();
    expect(parseProblemHeader('x = 1  # pairforge-problem: a/1\n')).toBeUndefined();
    expect(parseProblemHeader(problemHeader('mbpp-mini', 'Mbpp/2'))).toEqual({ dataset: 'mbpp-mini', externalId: 'Mbpp/2', line: 0 });
  });
});

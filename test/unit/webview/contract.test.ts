// The review room's contract restates a few lists of the engine's vocabulary (it imports nothing
// of the engine): they must say the same, or a toolbar choice would match no pair.
import { describe, expect, it } from 'vitest';
import { CORE_KINDS, EXTRA_KINDS, PAIR_STATUSES, PROGRAM_KIND, VERDICT_SEVERITY } from '../../../server/protocol';
import { BLOCK_KINDS, REJECTED_VERDICTS, STATUSES } from '../../../webview/contract';

describe('the review room contract', () => {
  it('offers every block kind, rejected verdict and status the engine has, and no other', () => {
    expect([...BLOCK_KINDS].sort()).toEqual([...CORE_KINDS, ...EXTRA_KINDS, PROGRAM_KIND].sort());
    expect(REJECTED_VERDICTS).toEqual(VERDICT_SEVERITY.filter((v) => v !== 'pass'));
    expect(STATUSES).toEqual(PAIR_STATUSES);
  });
});

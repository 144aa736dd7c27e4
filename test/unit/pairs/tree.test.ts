// The Pairs tree's texts: counts by status.
import { describe, expect, it } from 'vitest';
import { countsText } from '../../../server/pairs/tree';

describe('sampling and pairs texts', () => {

  it('counts pairs by status, leaving zeros out', () => {
    expect(countsText({ pending: 8, accepted: 3, rejected: 1, flagged: 0 })).toBe('12 pairs · 3 accepted · 1 rejected · 8 pending');
    expect(countsText({ pending: 0, accepted: 1, rejected: 0, flagged: 0 })).toBe('1 pair · 1 accepted');
  });
});

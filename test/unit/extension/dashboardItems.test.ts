// The dashboard's lists in the editor (extension/dashboardItems.ts): the engine's query for a
// mark's, and the quick pick's title, which says when the list is cut.
import { describe, expect, it } from 'vitest';
import { itemsQuery, itemsTitle } from '../../../extension/dashboardItems';

describe('a mark\'s list', () => {
  it('passes the query on, verdicts checked against the engine\'s vocabulary', () => {
    expect(itemsQuery({ what: 'targets', samples: 0 })).toEqual({ what: 'targets', samples: 0 });
    expect(itemsQuery({ what: 'samples', jobId: 1, model: 'm', verdict: 'pass' })).toEqual({ what: 'samples', jobId: 1, model: 'm', verdict: 'pass' });
    expect(itemsQuery({ what: 'samples', verdict: 'not run' })).toEqual({ what: 'samples', verdict: 'not run' });
    expect(() => itemsQuery({ what: 'samples', verdict: 'passed' })).toThrow(/not a verdict: passed/);
  });

  it('titles the pick with the mark, and "first 1,000 of N" when cut', () => {
    expect(itemsTitle('Samples', 1000, 52340)).toBe('Samples (first 1,000 of 52,340)');
    expect(itemsTitle('Targets with 0 samples', 12, 12)).toBe('Targets with 0 samples (12)');
  });
});

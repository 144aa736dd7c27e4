// What a project holds, every stage's counts together (`pairforge stats`, the editor's Show
// Project Stats). Each stage counts its own tables; this only puts the numbers side by side.
import { executionStats } from '../exec/store';
import { importCounts } from '../import/browse';
import { pairCount } from '../pairs/store';
import type { ProjectStats } from '../protocol';
import { sampleCount } from '../sampling/queries';
import { scoredPairCount } from '../scoring/store';
import type { Project } from '../store/db';
import { targetCount } from '../targets/queries';

export function projectStats(p: Project): ProjectStats {
  return {
    ...importCounts(p),
    targets: targetCount(p),
    samples: sampleCount(p),
    executions: executionStats(p).executions,
    pairs: pairCount(p),
    scoredPairs: scoredPairCount(p),
  };
}

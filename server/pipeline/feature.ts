// The project's counts for the editor (Show Project Stats): every stage's, side by side.
import type { EngineContext } from '../lsp/context';
import { guarded } from '../lsp/errors';
import { StatsRequest } from '../protocol';
import { projectStats } from './stats';

export function statsFeature(ctx: EngineContext): void {
  ctx.connection.onRequest(StatsRequest, () => guarded('stats', () => projectStats(ctx.projects.require('stats'))));
}

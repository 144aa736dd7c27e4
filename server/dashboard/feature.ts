// The dashboard's request: every figure, computed again only when the project file changed since
// the version the editor shows (it asks every few seconds while the dashboard is open), so an
// unchanged project costs one PRAGMA per ask.
import { comparatorOf } from '../exec/feature';
import type { EngineContext } from '../lsp/context';
import { guarded } from '../lsp/errors';
import { DashboardItemsRequest, DashboardRequest } from '../protocol';
import type { Project } from '../store/db';
import { dashboardData } from './data';
import { dashboardItems } from './items';

/** A number per opened project connection, so a reopened file never repeats a version. */
const connectionIds = new WeakMap<Project, number>();
let nextConnection = 1;

/** Changes whenever the project does: `data_version` moves with every commit by another
 * connection (the command line writing the same file), `total_changes()` with this connection's. */
export function projectVersion(p: Project): string {
  let id = connectionIds.get(p);
  if (id === undefined) connectionIds.set(p, (id = nextConnection++));
  const dataVersion = p.db.pragma('data_version', { simple: true }) as number;
  const own = p.db.prepare<[], { n: number }>('SELECT total_changes() AS n').get()!.n;
  return `${p.file}#${id}:${dataVersion}:${own}`;
}

export function dashboardFeature(ctx: EngineContext): void {
  ctx.connection.onRequest(DashboardRequest, (params) =>
    guarded('dashboard', () => {
      const p = ctx.projects.get();
      if (!p) return { version: `none:${ctx.projects.path}`, data: null };
      const version = projectVersion(p);
      if (params?.since === version) return { version, data: null };
      return { version, data: dashboardData(p, { comparator: comparatorOf(ctx) }) };
    }),
  );
  ctx.connection.onRequest(DashboardItemsRequest, (params) =>
    guarded('dashboard items', () => {
      const p = ctx.projects.get();
      if (!p) return { total: 0, items: [] };
      return dashboardItems(p, params.query, comparatorOf(ctx), params.limit);
    }),
  );
}

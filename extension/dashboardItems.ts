// The dashboard's lists (a mark without pairs opens the items it counts in a quick pick): the
// engine's query for the webview's, and the pick's title. No vscode, so unit tests run it.
import { VERDICTS, type DashboardItemsQuery, type Verdict } from '../server/protocol';
import type { ItemsQuery } from '../webview/dashboard/contract';

/** The engine's query for a mark's items: the webview names verdicts as strings, the engine knows
 * which strings are verdicts. */
export function itemsQuery(q: ItemsQuery): DashboardItemsQuery {
  if (q.what !== 'samples' || q.verdict === undefined || q.verdict === 'run' || q.verdict === 'not run') return q as DashboardItemsQuery;
  const verdict = q.verdict;
  if (!(VERDICTS as readonly string[]).includes(verdict)) throw new Error(`not a verdict: ${verdict}`);
  return { ...q, verdict: verdict as Verdict };
}

/** The title of a mark's list: the mark, and how much of it is shown when the list is cut. */
export function itemsTitle(title: string, shown: number, total: number): string {
  return shown < total ? `${title} (first ${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})` : `${title} (${total.toLocaleString('en-US')})`;
}

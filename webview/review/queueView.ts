// The queue: a virtualised list of pairs fed by pages from the engine. Only the rows in view are
// in the DOM, and only the pages they need are asked for, so 100k pairs scroll as 10 do.
import type { Counts, QueuePage, QueueRow } from '../contract';
import { el, setChildren } from './dom';

export const PAGE = 100;
export const ROW_HEIGHT = 24;

const STATUS_MARK: Record<QueueRow['status'], string> = { pending: '•', accepted: '✓', rejected: '✗', flagged: '⚑' };

export class QueueView {
  readonly root: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly window: HTMLElement;
  private readonly pages = new Map<number, QueueRow[]>();
  private readonly loading = new Map<number, Promise<void>>();
  private generation = 0;
  total = 0;
  selected = -1;

  constructor(
    private readonly fetch: (offset: number, limit: number) => Promise<QueuePage>,
    private readonly onPick: (index: number) => void,
    private readonly onCounts: (counts: Counts, all: Counts, total: number) => void,
  ) {
    this.window = el('div', { className: 'pf-queue-window' });
    this.spacer = el('div', { className: 'pf-queue-spacer' }, this.window);
    this.root = el('div', { className: 'pf-queue', attrs: { role: 'listbox', 'aria-label': 'pairs', tabindex: '-1' } }, this.spacer);
    this.root.addEventListener('scroll', () => this.render());
  }

  /** Forgets every page (new filters, or the project changed) and loads the first. */
  async reset(): Promise<void> {
    this.generation++;
    this.pages.clear();
    this.loading.clear();
    this.total = 0;
    await this.load(0);
    this.render();
  }

  private load(page: number): Promise<void> {
    const existing = this.loading.get(page);
    if (existing) return existing;
    const generation = this.generation;
    const p = this.fetch(page * PAGE, PAGE).then((r) => {
      if (generation !== this.generation) return;
      this.pages.set(page, r.rows);
      this.total = r.total;
      this.spacer.style.height = `${this.total * ROW_HEIGHT}px`;
      this.onCounts(r.counts, r.allCounts, r.total);
    });
    this.loading.set(page, p);
    p.catch(() => this.loading.delete(page));
    return p;
  }

  /** The row at `index`, loading its page when needed; undefined past the end. */
  async rowAt(index: number): Promise<QueueRow | undefined> {
    if (index < 0) return undefined;
    const page = Math.floor(index / PAGE);
    if (!this.pages.has(page)) await this.load(page);
    return this.pages.get(page)?.[index - page * PAGE];
  }

  /** The row at `index` if its page is loaded. */
  cached(index: number): QueueRow | undefined {
    const page = Math.floor(index / PAGE);
    return this.pages.get(page)?.[index - page * PAGE];
  }

  /** Loads the page after `index`'s when `index` is near its end, so stepping never waits. */
  prefetch(index: number): void {
    const page = Math.floor(index / PAGE);
    if (index - page * PAGE > PAGE - 20 && (page + 1) * PAGE < this.total) void this.load(page + 1);
  }

  /** The first pending row after `index`, searching page by page; -1 when there is none. */
  async nextPending(index: number): Promise<number> {
    for (let i = index + 1; i < this.total; i++) {
      const r = await this.rowAt(i);
      if (r?.status === 'pending') return i;
    }
    return -1;
  }

  /** Updates a pair's row wherever it is loaded (after a decision or an undo). */
  patch(pairId: number, patch: Partial<QueueRow>): void {
    for (const rows of this.pages.values()) for (const r of rows) if (r.pairId === pairId) Object.assign(r, patch);
    this.render();
  }

  select(index: number): void {
    this.selected = index;
    const top = index * ROW_HEIGHT;
    if (top < this.root.scrollTop) this.root.scrollTop = top;
    else if (top + ROW_HEIGHT > this.root.scrollTop + this.root.clientHeight) this.root.scrollTop = top + ROW_HEIGHT - this.root.clientHeight;
    this.render();
  }

  render(): void {
    const first = Math.max(0, Math.floor(this.root.scrollTop / ROW_HEIGHT) - 5);
    const count = Math.ceil((this.root.clientHeight || 600) / ROW_HEIGHT) + 10;
    const last = Math.min(this.total, first + count);
    const rows: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const r = this.cached(i);
      if (!r) {
        void this.load(Math.floor(i / PAGE)).then(() => this.render());
        rows.push(el('div', { className: 'pf-row pf-row-loading' }, '…'));
        continue;
      }
      const meta = [r.kind === 'fim' ? `${r.blockKind ?? 'block'} d${r.depth ?? '?'}` : r.kind, r.editDistance !== null ? `Δ${r.editDistance}` : '', r.margin !== null ? `m ${r.margin.toFixed(2)}` : '']
        .filter(Boolean)
        .join(' · ');
      const row = el(
        'div',
        {
          className: `pf-row pf-status-${r.status}${i === this.selected ? ' pf-row-selected' : ''}`,
          title: `pair ${r.pairId} · ${r.problem} · ${r.status}${r.flags.length ? ` · flags: ${r.flags.join(', ')}` : ''}${r.note ? `\nnote: ${r.note}` : ''}`,
          attrs: { role: 'option', 'aria-selected': String(i === this.selected), 'data-index': String(i), 'data-pair': String(r.pairId) },
          onClick: () => this.onPick(i),
        },
        el('span', { className: 'pf-row-status' }, STATUS_MARK[r.status]),
        el('span', { className: 'pf-row-id' }, `#${r.pairId}`),
        el('span', { className: 'pf-row-meta' }, meta),
        r.flags.length ? el('span', { className: 'pf-row-flags' }, `⚑${r.flags.length}`) : null,
        el('span', { className: 'pf-row-text' }, r.rejectedLine),
      );
      rows.push(row);
    }
    this.window.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    setChildren(this.window, ...rows);
  }
}

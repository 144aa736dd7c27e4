// The review room (a webview): the queue on the left, the pair in the middle, its facts on the
// right; keyboard first. It talks only to the extension, through webview/contract.ts.
import {
  BLOCK_KINDS,
  HEATMAP_MODES,
  REJECTED_VERDICTS,
  RequestClient,
  STATUSES,
  type Candidate,
  type Counts,
  type EditResult,
  type FromWebview,
  type HeatmapMode,
  type Pair,
  type QueueQuery,
  type QueueRow,
  type Rewards,
  type RoomState,
  type ScoringRun,
  type Status,
  type ToWebview,
} from '../contract';
import { el, setChildren } from './dom';
import { hiddenFilters, withoutHiddenFilters } from './filters';
import { heatmapCss, legendStops } from './heatmap';
import { actionOf, KEYMAP, type Action } from './keys';
import { PairView } from './pairView';
import { QueueView } from './queueView';
import { SidePanel } from './sidePanel';
import './review.css';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): RoomState | undefined;
  setState(s: RoomState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const client = new RequestClient((m) => vscode.postMessage(m));
const DEFAULT_STATE: RoomState = { query: {}, index: 0, heatmap: 'reward', questionOpen: false };

/** Timings the benchmark reads: key press to the next pair painted, and heatmap paints. */
const metrics = { nextPairMs: [] as number[], heatmapMs: [] as number[], searchMs: [] as number[] };
(window as unknown as { __pfMetrics: typeof metrics }).__pfMetrics = metrics;

// ---- the worker Monaco's diff runs in: the bundle the extension points at, loaded as a blob ----

const workerUrl = document.body.dataset.workerUrl ?? '';
let workerBlob: Promise<string> | undefined;
(self as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
  getWorker: async () => {
    workerBlob ??= fetch(workerUrl)
      .then((r) => r.text())
      .then((code) => URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
    return new Worker(await workerBlob);
  },
};

// ---- layout ---------------------------------------------------------------------------------

const search = el('input', { className: 'pf-search', attrs: { type: 'search', placeholder: 'search problem, chosen, rejected (/)', 'aria-label': 'search' } });
const statusFilter = el('select', { attrs: { 'aria-label': 'status filter' } }, el('option', { attrs: { value: '' } }, 'all statuses'), ...STATUSES.map((s) => el('option', { attrs: { value: s } }, s)));
const kindFilter = el(
  'select',
  { attrs: { 'aria-label': 'kind filter' } },
  el('option', { attrs: { value: '' } }, 'all kinds'),
  ...['fim', 'iterpref', 'full'].map((k) => el('option', { attrs: { value: k } }, k)),
);
const flagFilter = el(
  'select',
  { attrs: { 'aria-label': 'flag filter' } },
  el('option', { attrs: { value: '' } }, 'any flags'),
  el('option', { attrs: { value: 'none' } }, 'no flags'),
  el('option', { attrs: { value: 'any' } }, 'flagged by filters'),
);
const blockFilter = el(
  'select',
  { attrs: { 'aria-label': 'block kind filter' } },
  el('option', { attrs: { value: '' } }, 'all blocks'),
  ...BLOCK_KINDS.map((k) => el('option', { attrs: { value: k } }, `block: ${k}`)),
);
const depthFilter = el(
  'select',
  { attrs: { 'aria-label': 'depth filter' } },
  el('option', { attrs: { value: '' } }, 'any depth'),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((d) => el('option', { attrs: { value: String(d) } }, `depth ${d}`)),
);
const verdictFilter = el(
  'select',
  { attrs: { 'aria-label': 'rejected verdict filter' } },
  el('option', { attrs: { value: '' } }, 'any rejected verdict'),
  ...REJECTED_VERDICTS.map((v) => el('option', { attrs: { value: v } }, `rejected: ${v.replace(/_/g, ' ')}`)),
);
// Margins in the scoring run the toolbar shows; Enter or leaving the field applies them.
const marginMin = el('input', { className: 'pf-margin', title: 'lowest margin, in the scoring run shown', attrs: { type: 'number', step: 'any', placeholder: 'margin ≥', 'aria-label': 'lowest margin' } });
const marginMax = el('input', { className: 'pf-margin', title: 'highest margin, in the scoring run shown', attrs: { type: 'number', step: 'any', placeholder: 'margin ≤', 'aria-label': 'highest margin' } });
const sortSelect = el(
  'select',
  { attrs: { 'aria-label': 'sort' } },
  el('option', { attrs: { value: 'id' } }, 'by id'),
  el('option', { attrs: { value: 'edit_distance' } }, 'by edit distance'),
  el('option', { attrs: { value: 'margin' } }, 'by margin (policy prefers rejected first)'),
);
const runSelect = el('select', { attrs: { 'aria-label': 'scoring run' } });
const compareSelect = el('select', { attrs: { 'aria-label': 'compare with run' } });
const heatSelect = el('select', { attrs: { 'aria-label': 'heatmap' } }, ...HEATMAP_MODES.map((m) => el('option', { attrs: { value: m } }, `heatmap: ${m}`)));
const counts = el('div', { className: 'pf-counts', attrs: { 'aria-live': 'polite' } });
const helpButton = el('button', { className: 'pf-link', title: 'keys (?)', onClick: () => toggleHelp() }, '?');
const trainButton = el('button', { className: 'pf-button pf-train', title: 'Send the accepted pairs to the training host (the last settings)', onClick: () => void sendToTraining() }, 'Send to Training');
// Filters set from outside the toolbar (a dashboard mark): shown, and cleared with one click.
const filterText = el('span', { className: 'pf-filter-text' });
const filterChip = el(
  'span',
  { className: 'pf-filter', attrs: { role: 'status' } },
  filterText,
  el('button', { className: 'pf-link', title: 'clear these filters', attrs: { 'aria-label': 'clear filters' }, onClick: () => void replaceQuery(withoutHiddenFilters(state.query)) }, '×'),
);
filterChip.hidden = true;
const toolbar = el(
  'header',
  { className: 'pf-toolbar' },
  search,
  statusFilter,
  kindFilter,
  blockFilter,
  depthFilter,
  verdictFilter,
  flagFilter,
  marginMin,
  marginMax,
  sortSelect,
  runSelect,
  compareSelect,
  heatSelect,
  filterChip,
  counts,
  trainButton,
  helpButton,
);

const figures = el('div', { className: 'pf-figures', attrs: { 'aria-live': 'polite' } });
const legend = el('div', { className: 'pf-legend' });
const editorHost = el('div', { className: 'pf-editor' });
const banner = el('div', { className: 'pf-banner', attrs: { role: 'status' } });
const center = el('main', { className: 'pf-center' }, figures, banner, editorHost, legend);
const statusLine = el('footer', { className: 'pf-statusline' }, 'a accept · r reject · f flag · s skip · u undo · j/k next/previous · n next pending · e edit · h heatmap · / search · ? keys');
const helpOverlay = el(
  'div',
  { className: 'pf-overlay', attrs: { role: 'dialog', 'aria-label': 'keys' } },
  el('div', { className: 'pf-dialog' }, el('h2', {}, 'Keys'), el('table', {}, ...KEYMAP.map((k) => el('tr', {}, el('td', { className: 'pf-key' }, k.key), el('td', {}, k.label)))), el('div', { className: 'pf-muted' }, 'Esc closes')),
);
helpOverlay.hidden = true;
const noteInput = el('textarea', { className: 'pf-note-input', attrs: { rows: '3', 'aria-label': 'note' } });
const noteOverlay = el(
  'div',
  { className: 'pf-overlay', attrs: { role: 'dialog', 'aria-label': 'flag with a note' } },
  el('div', { className: 'pf-dialog' }, el('h2', {}, 'Flag this pair'), el('div', { className: 'pf-muted' }, 'A note says why (Enter saves, Esc cancels).'), noteInput),
);
noteOverlay.hidden = true;

let state: RoomState = { ...DEFAULT_STATE };
let current: Pair | undefined;
let compared: Candidate | undefined;
let rewards: Rewards | undefined;
let compareRewards: Rewards | undefined;
let runs: ScoringRun[] = [];
let editRun: EditResult | undefined;
let trusted = false;
let pending: { started: number } | undefined;
const details = new Map<number, Promise<Pair>>();

const side = new SidePanel(
  (c) => {
    compared = c;
    if (current) {
      view.show(current, c);
      void paintHeatmap();
      side.show(current, compared, editRun);
      say(c ? `right: candidate #${c.ordinal} (${(c.verdict ?? 'not run').replace(/_/g, ' ')}) against the chosen side` : '');
    }
  },
  (open) => save({ questionOpen: open }),
);
const queue = new QueueView(
  // The queue is sorted and filtered by margin in the scoring run the toolbar shows (the newest
  // until another is picked), so "by margin" works before the run box is ever touched.
  (offset, limit) => client.request('queuePage', { query: queueQuery(), offset, limit }),
  (i) => void go(i),
  (c, all, total) => showCounts(c, all, total),
);
document.body.append(el('div', { className: 'pf-room' }, toolbar, queue.root, center, side.root, statusLine), helpOverlay, noteOverlay);
const view = new PairView(editorHost, document.body);

// ---- theme ------------------------------------------------------------------------------------

const themeStyle = el('style');
document.head.append(themeStyle);
function applyTheme(): void {
  const c = document.body.classList;
  const dark = c.contains('vscode-dark') || c.contains('vscode-high-contrast');
  view.setTheme(c.contains('vscode-high-contrast-light') ? 'hc-light' : c.contains('vscode-high-contrast') ? 'hc-black' : dark ? 'vs-dark' : 'vs');
  themeStyle.textContent = heatmapCss(dark ? 'dark' : 'light');
  paintLegend();
}
new MutationObserver(applyTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ---- state ------------------------------------------------------------------------------------

function save(patch: Partial<RoomState>): void {
  state = { ...state, ...patch };
  vscode.setState(state);
  vscode.postMessage({ type: 'state', state });
}

let shownCounts: { c: Counts; all: Counts; total: number } | undefined;

function showCounts(c: Counts, all: Counts, total: number): void {
  shownCounts = { c, all, total };
  const part = (s: Status) => `${c[s]} ${s}`;
  const allTotal = STATUSES.reduce((n, s) => n + all[s], 0);
  counts.textContent = `${total} shown: ${STATUSES.map(part).join(' · ')}${total !== allTotal ? ` (of ${allTotal})` : ''}`;
}

/** A pair moved from one status to another: the counts in view follow at once. */
function moveCount(from: Status, to: Status): void {
  if (!shownCounts || from === to) return;
  const { c, all, total } = shownCounts;
  c[from]--;
  c[to]++;
  all[from]--;
  all[to]++;
  showCounts(c, all, total);
}

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  banner.textContent = text;
  banner.className = `pf-banner pf-banner-${kind}`;
}

function syncControls(): void {
  const hidden = hiddenFilters(state.query);
  filterText.textContent = hidden.length ? `filtered: ${hidden.join(' · ')}` : '';
  filterChip.hidden = hidden.length === 0;
  search.value = state.query.search ?? '';
  statusFilter.value = state.query.statuses?.[0] ?? '';
  kindFilter.value = state.query.kinds?.[0] ?? '';
  flagFilter.value = typeof state.query.flags === 'string' ? state.query.flags : '';
  blockFilter.value = state.query.blockKinds?.length === 1 ? state.query.blockKinds[0] : '';
  depthFilter.value = state.query.depths?.length === 1 ? String(state.query.depths[0]) : '';
  verdictFilter.value = state.query.rejectedVerdicts?.length === 1 ? state.query.rejectedVerdicts[0] : '';
  marginMin.value = state.query.marginMin === undefined ? '' : String(state.query.marginMin);
  marginMax.value = state.query.marginMax === undefined ? '' : String(state.query.marginMax);
  sortSelect.value = state.query.sort ?? 'id';
  heatSelect.value = state.heatmap;
}

async function setQuery(patch: Partial<QueueQuery>): Promise<void> {
  const query: QueueQuery = { ...state.query, ...patch };
  for (const k of Object.keys(query) as (keyof QueueQuery)[]) if (query[k] === undefined || query[k] === '') delete query[k];
  save({ query, index: 0 });
  syncControls();
  details.clear();
  const started = performance.now();
  await queue.reset();
  if (patch.search !== undefined) metrics.searchMs.push(performance.now() - started);
  await go(0);
}

/** Shows the queue under exactly `query`, from its first pair. */
/** A query set from outside (a dashboard mark) keeps the reviewer's order when it names none. */
function keepOrder(query: QueueQuery, before: QueueQuery): QueueQuery {
  if (query.sort !== undefined || before.sort === undefined) return { ...query };
  return { ...query, sort: before.sort, ...(before.descending ? { descending: true } : {}) };
}

async function replaceQuery(query: QueueQuery): Promise<void> {
  if (view.editing) return say('finish the edit first: Ctrl+S saves, Esc cancels', 'error');
  save({ query: keepOrder(query, state.query), index: 0, pairId: undefined });
  syncControls();
  if (query.runId !== undefined) runSelect.value = String(query.runId);
  details.clear();
  await queue.reset();
  await go(0);
}

// ---- pairs ------------------------------------------------------------------------------------

function detail(pairId: number): Promise<Pair> {
  let d = details.get(pairId);
  if (!d) {
    d = client.request('pair', { pairId });
    details.set(pairId, d);
    d.catch(() => details.delete(pairId));
  }
  return d;
}

/** Shows the pair at queue position `index`. */
async function go(index: number): Promise<void> {
  if (view.editing) return say('finish the edit first: Ctrl+S saves, Esc cancels', 'error');
  if (queue.total === 0) {
    current = undefined;
    say(state.query.search || Object.keys(state.query).length ? 'No pair matches these filters.' : 'No pairs yet: build them with "PairForge: Build Pairs..." (or pairforge pairs).');
    return;
  }
  const i = Math.max(0, Math.min(queue.total - 1, index));
  const row = await queue.rowAt(i);
  if (!row) return;
  queue.select(i);
  save({ index: i, pairId: row.pairId });
  await showPair(row.pairId);
  queue.prefetch(i);
  // The next two pairs' details and rewards, so stepping on does not wait for the engine.
  for (const k of [1, 2]) {
    const next = queue.cached(i + k);
    if (next) {
      void detail(next.pairId).catch(() => undefined);
      void rewardsOf(next.pairId).catch(() => undefined);
    }
  }
}

/** The next pending pair after `index`: the engine finds it (a page scan would read every page in
 * between); the loaded pages are searched when it cannot answer. */
async function nextPending(index: number): Promise<number> {
  try {
    return (await client.request('queueNext', { query: queueQuery(), after: index, status: 'pending' })).index;
  } catch {
    return queue.nextPending(index);
  }
}

/** Opens the room at a pair (the Pairs view, a dashboard list): its row selected, so `j`, `k` and
 * a decision go on from there; a pair the filters leave out is shown with the queue left as is. */
async function openAt(pairId: number): Promise<void> {
  let index = -1;
  try {
    index = (await client.request('queueIndex', { query: queueQuery(), pairId })).index;
  } catch {
    // an engine without the request: show the pair, the queue's selection stays
  }
  if (index >= 0) return go(index);
  save({ pairId });
  await showPair(pairId);
  say(`pair ${pairId} is not in the queue under these filters`);
}

async function showPair(pairId: number): Promise<void> {
  let pair: Pair;
  try {
    // The pair and its rewards together, so the editor is painted once.
    [pair] = await Promise.all([detail(pairId), state.heatmap !== 'off' ? rewardsOf(pairId).catch(() => null) : null]);
  } catch (e) {
    return say(`pair ${pairId}: ${(e as Error).message}`, 'error');
  }
  if (state.pairId !== pairId) return; // the reviewer moved on meanwhile
  current = pair;
  compared = undefined;
  editRun = undefined;
  view.show(pair, undefined, false);
  side.show(pair, undefined);
  say(pair.flags.length ? `filter flags: ${pair.flags.join(', ')}` : '');
  await paintHeatmap();
  if (pending) {
    const started = pending.started;
    pending = undefined;
    requestAnimationFrame(() => metrics.nextPairMs.push(performance.now() - started));
  }
}

/** The selected scoring run. */
function runId(): number | undefined {
  return Number(runSelect.value) || runs[0]?.id;
}

/** The room's query as the engine gets it: with the shown scoring run when none was picked. */
function queueQuery(): QueueQuery {
  const run = state.query.runId ?? runId();
  return run === undefined ? state.query : { ...state.query, runId: run };
}

const rewardCache = new Map<string, Promise<Rewards | null>>();
function rewardsOf(pairId: number, run = runId()): Promise<Rewards | null> {
  if (run === undefined) return Promise.resolve(null);
  const key = `${run}:${pairId}`;
  let r = rewardCache.get(key);
  if (!r) {
    r = client.request('rewards', { pairId, runId: run });
    rewardCache.set(key, r);
    r.catch(() => rewardCache.delete(key));
  }
  return r;
}

async function paintHeatmap(): Promise<void> {
  const pair = current;
  if (!pair) return;
  rewards = undefined;
  compareRewards = undefined;
  if (state.heatmap !== 'off' && runs.length > 0) {
    try {
      rewards = (await rewardsOf(pair.pairId)) ?? undefined;
      if (state.compareRunId !== undefined && state.compareRunId !== runId()) compareRewards = (await rewardsOf(pair.pairId, state.compareRunId)) ?? undefined;
    } catch (e) {
      say(`rewards of pair ${pair.pairId}: ${(e as Error).message}`, 'error');
    }
  }
  if (current !== pair) return;
  // The paint time the benchmark reports: setting the decorations, plus Monaco's rendering of them
  // in the next frame (its render callback runs between these two frame callbacks, registered
  // before and after it asks for one), not the wait for the frame itself.
  let frameStart = 0;
  if (rewards) requestAnimationFrame(() => (frameStart = performance.now()));
  const r = view.setHeatmap(rewards, state.heatmap, compareRewards);
  if (rewards) requestAnimationFrame(() => metrics.heatmapMs.push(r.ms + (performance.now() - frameStart)));
  paintFigures();
  paintLegend(r.clamp);
}

function paintFigures(): void {
  if (!current) return setChildren(figures);
  if (runs.length === 0) {
    return setChildren(
      figures,
      el('span', { className: 'pf-muted' }, 'No per-token rewards yet: score the pairs with a policy and a reference model. '),
      el('button', { className: 'pf-button', onClick: () => void scorePairs() }, 'Score Pairs'),
    );
  }
  if (!rewards) return setChildren(figures, el('span', { className: 'pf-muted' }, `pair ${current.pairId} has no score in this run`), ' ', el('button', { className: 'pf-button', onClick: () => void scorePairs([current!.pairId]) }, 'Score this pair'));
  const r = rewards;
  const sum = (name: 'chosen' | 'rejected') => {
    const s = r[name];
    return el('span', { className: 'pf-figure' }, s.skipped !== undefined ? `${name}: not scored (${s.skipped})` : `${name} Σr (loss) ${s.maskedRewardSum.toFixed(3)}`);
  };
  setChildren(
    figures,
    sum('chosen'),
    sum('rejected'),
    r.margin === null
      ? el('span', { className: 'pf-muted' }, 'no margin without both sides')
      : el('span', { className: `pf-figure ${r.margin >= 0 ? 'pf-good' : 'pf-bad'}` }, `margin ${r.margin.toFixed(3)}`),
    r.prefersChosen === null ? null : el('span', { className: 'pf-figure' }, r.prefersChosen ? 'the policy prefers the chosen side' : 'the policy still prefers the rejected side'),
    el('span', { className: 'pf-muted' }, `beta ${r.beta} · run ${r.runId}${compareRewards ? ` vs run ${compareRewards.runId} (change)` : ''}`),
  );
}

function paintLegend(clamp = 1): void {
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  const mode: HeatmapMode = compareRewards ? 'reward' : state.heatmap;
  const stops = rewards ? legendStops(mode, clamp, dark ? 'dark' : 'light') : [];
  if (stops.length === 0) return setChildren(legend, state.heatmap === 'mask' && rewards ? el('span', { className: 'pf-heat-mask' }, 'in the loss') : null);
  setChildren(
    legend,
    el('span', { className: 'pf-muted' }, compareRewards ? 'reward change ' : mode === 'reward' ? 'reward ' : 'log-prob '),
    ...stops.map((s) => el('span', { className: 'pf-stop', title: s.value.toFixed(3), attrs: { 'data-colour': s.colour } }, s.value.toFixed(2))),
    el('span', { className: 'pf-muted' }, ` clamp ±${clamp}`),
  );
  // Colours as properties, not markup (the CSP allows inline styles for Monaco's sake only).
  legend.querySelectorAll<HTMLElement>('.pf-stop').forEach((e) => (e.style.backgroundColor = e.dataset.colour ?? ''));
}

async function sendToTraining(): Promise<void> {
  try {
    const r = await client.request('sendToTraining', {});
    if (r.started) say('Sending the accepted pairs to training: the task terminal shows the run\u2019s log, the Training Runs view its status.');
  } catch (e) {
    say(`send to training: ${(e as Error).message}`, 'error');
  }
}

async function scorePairs(pairIds?: number[]): Promise<void> {
  try {
    const r = await client.request('score', pairIds ? { pairIds } : {});
    if (r.started) say('Scoring runs in the background (see the progress notification); the heatmaps appear when it ends.');
  } catch (e) {
    say(`score: ${(e as Error).message}`, 'error');
  }
}

async function loadRuns(): Promise<void> {
  try {
    runs = await client.request('scoringRuns', {});
  } catch {
    runs = [];
  }
  setChildren(runSelect, ...(runs.length ? runs.map((r) => el('option', { attrs: { value: String(r.id) } }, `run ${r.id}: ${r.label}`)) : [el('option', { attrs: { value: '' } }, 'no scoring runs')]));
  setChildren(compareSelect, el('option', { attrs: { value: '' } }, 'compare: none'), ...runs.map((r) => el('option', { attrs: { value: String(r.id) } }, `compare with run ${r.id}`)));
  if (state.query.runId !== undefined) runSelect.value = String(state.query.runId);
  compareSelect.value = state.compareRunId === undefined ? '' : String(state.compareRunId);
}

// ---- decisions --------------------------------------------------------------------------------

/** The pair a key decides: the selected row, which `go` selects at once. `current` (the pair whose
 * details are shown) lags behind it while they load, and a reviewer who presses on before then
 * means the row they see selected. */
function selectedPair(): { pairId: number; status: Status; note: string | null } | undefined {
  const row = queue.cached(state.index);
  if (!row || row.pairId !== state.pairId) return current && { pairId: current.pairId, status: current.status, note: current.note ?? null };
  // The row's status is the room's latest (a decision patches the row); the note is the shown
  // pair's when its details are here.
  return { pairId: row.pairId, status: row.status, note: current?.pairId === row.pairId ? (current.note ?? null) : row.note };
}

async function decideCurrent(status: Status, note?: string): Promise<void> {
  const pair = selectedPair();
  if (!pair) return;
  const index = state.index;
  const before = pair.status;
  queue.patch(pair.pairId, { status, ...(note !== undefined ? { note } : {}) });
  moveCount(before, status);
  details.delete(pair.pairId);
  const stored = client.request('decide', { pairIds: [pair.pairId], status, ...(note !== undefined ? { note } : {}) });
  pending = { started: performance.now() };
  void go(index + 1);
  try {
    await stored;
  } catch (e) {
    queue.patch(pair.pairId, { status: before });
    moveCount(status, before);
    say(`pair ${pair.pairId} was not saved: ${(e as Error).message}`, 'error');
  }
}

async function undo(): Promise<void> {
  try {
    const r = await client.request('undo', {});
    if (!r) return say('Nothing to undo.');
    for (const p of r.pairs) {
      const row = findRow(p.pairId);
      if (row) moveCount(row.row.status, p.status);
      queue.patch(p.pairId, { status: p.status });
      details.delete(p.pairId);
      for (const k of [...rewardCache.keys()]) if (k.endsWith(`:${p.pairId}`)) rewardCache.delete(k);
    }
    const target = r.pairs[0].pairId;
    const message = `undone: ${r.action === 'edit' ? 'the edit of' : 'the decision on'} pair ${target}`;
    // Back to the pair it touched, when it is in the loaded part of the queue.
    const at = findRow(target);
    if (at) await go(at.index);
    else {
      save({ pairId: target });
      await showPair(target);
    }
    say(message);
  } catch (e) {
    say(`undo: ${(e as Error).message}`, 'error');
  }
}

/** A pair's row near the current position, when loaded. */
function findRow(pairId: number): { index: number; row: QueueRow } | undefined {
  for (let i = Math.max(0, state.index - 500); i < Math.min(queue.total, state.index + 500); i++) {
    const row = queue.cached(i);
    if (row?.pairId === pairId) return { index: i, row };
  }
  return undefined;
}

function openNote(): void {
  const pair = selectedPair();
  if (!pair) return;
  noteInput.value = pair.note ?? '';
  noteOverlay.hidden = false;
  noteInput.focus();
}

noteInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    noteOverlay.hidden = true;
    noteInput.blur();
    void decideCurrent('flagged', noteInput.value.trim());
  } else if (e.key === 'Escape') {
    e.preventDefault();
    noteOverlay.hidden = true;
    noteInput.blur();
  }
  e.stopPropagation();
});

// ---- editing the chosen side ------------------------------------------------------------------

function startEdit(): void {
  if (!current) return;
  if (view.editing) {
    view.focusEdit();
    return;
  }
  if (!trusted) return say('Editing runs the tests of the edited side, which needs a trusted workspace.', 'error');
  if (current.kind === 'fim' && compared) {
    compared = undefined;
    view.show(current);
  }
  view.setEditing(true);
  say('Editing the chosen side: Ctrl+Enter (or Esc, then t) runs its tests, Ctrl+S tests and saves it; Esc leaves the editor, Esc again cancels.');
}

async function runEditTests(): Promise<void> {
  const pair = current;
  const e = view.editedChosen();
  if (!pair) return;
  if ('error' in e) return say(e.error, 'error');
  say('running the tests of the edited side…');
  try {
    editRun = await client.request('runTests', { pairId: pair.pairId, chosen: e.text });
    side.show(pair, compared, editRun);
    say(`edited side: ${editRun.verdict} (${editRun.tests.filter((t) => t.verdict === 'pass').length}/${editRun.testsTotal} tests pass)`, editRun.verdict === 'pass' ? 'info' : 'error');
  } catch (err) {
    say(`run tests: ${(err as Error).message}`, 'error');
  }
}

async function saveEdit(): Promise<void> {
  const pair = current;
  const e = view.editedChosen();
  if (!pair) return;
  if ('error' in e) return say(e.error, 'error');
  say('testing and saving the edited side…');
  try {
    const updated = await client.request('saveEdit', { pairId: pair.pairId, chosen: e.text });
    details.set(pair.pairId, Promise.resolve(updated));
    for (const k of [...rewardCache.keys()]) if (k.endsWith(`:${pair.pairId}`)) rewardCache.delete(k);
    view.setEditing(false);
    current = updated;
    view.show(updated);
    side.show(updated, undefined);
    await paintHeatmap();
    say(`saved: the chosen side of pair ${pair.pairId} is your edit (${updated.edit?.verdict ?? 'not run'}); u undoes it`);
  } catch (err) {
    say(`save: ${(err as Error).message}`, 'error');
  }
}

// ---- keys -------------------------------------------------------------------------------------

function toggleHelp(): void {
  helpOverlay.hidden = !helpOverlay.hidden;
}

async function act(a: Action): Promise<void> {
  switch (a) {
    case 'accept':
      return decideCurrent('accepted');
    case 'reject':
      return decideCurrent('rejected');
    case 'flag':
      return openNote();
    case 'skip':
    case 'next':
      pending = { started: performance.now() };
      return go(state.index + 1);
    case 'previous':
      pending = { started: performance.now() };
      return go(state.index - 1);
    case 'nextPending': {
      const i = await nextPending(state.index);
      if (i < 0) return say('No pending pair after this one.');
      pending = { started: performance.now() };
      return go(i);
    }
    case 'undo':
      return undo();
    case 'edit':
      return startEdit();
    case 'runTests':
      return view.editing ? runEditTests() : say('press e to edit the chosen side first');
    case 'save':
      return saveEdit();
    case 'heatmap': {
      const next = HEATMAP_MODES[(HEATMAP_MODES.indexOf(state.heatmap) + 1) % HEATMAP_MODES.length];
      save({ heatmap: next });
      heatSelect.value = next;
      return paintHeatmap();
    }
    case 'search':
      search.focus();
      search.select();
      return;
    case 'help':
      return toggleHelp();
    case 'escape':
      if (!helpOverlay.hidden) helpOverlay.hidden = true;
      else if (view.editing && view.editFocused()) {
        view.blurEdit();
        say('The edit is kept: t runs its tests, Ctrl+S tests and saves it, e goes back into it, Esc cancels it.');
      } else if (view.editing) {
        view.setEditing(false);
        say('edit cancelled');
      } else if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      return;
  }
}

window.addEventListener(
  'keydown',
  (e) => {
    const target = e.target as HTMLElement | null;
    // A read-only editor with focus (after a click in the diff) is no text field: keys stay the
    // room's; the chosen side while it is edited is one.
    const inEditor = !!target?.closest('.monaco-editor');
    const typing = !!target && (inEditor ? view.editing && view.editFocused() : target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT');
    if (!noteOverlay.hidden) return;
    const a = actionOf(e, { editing: view.editing, typing });
    if (!a) return;
    if (typing && a === 'escape' && !inEditor) {
      target?.blur();
      return;
    }
    e.preventDefault();
    e.stopPropagation();
    void act(a);
  },
  true,
);

search.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    void setQuery({ search: search.value.trim() || undefined });
    search.blur();
  }
});
statusFilter.addEventListener('change', () => void setQuery({ statuses: statusFilter.value ? [statusFilter.value as Status] : undefined }));
kindFilter.addEventListener('change', () => void setQuery({ kinds: kindFilter.value ? [kindFilter.value as 'fim'] : undefined }));
flagFilter.addEventListener('change', () => void setQuery({ flags: flagFilter.value ? (flagFilter.value as 'any' | 'none') : undefined }));
blockFilter.addEventListener('change', () => void setQuery({ blockKinds: blockFilter.value ? [blockFilter.value] : undefined }));
depthFilter.addEventListener('change', () => void setQuery({ depths: depthFilter.value ? [Number(depthFilter.value)] : undefined }));
verdictFilter.addEventListener('change', () => void setQuery({ rejectedVerdicts: verdictFilter.value ? [verdictFilter.value] : undefined }));
for (const [input, key] of [
  [marginMin, 'marginMin'],
  [marginMax, 'marginMax'],
] as const) {
  const apply = () => {
    const v = input.value.trim() === '' ? undefined : Number(input.value);
    if (v !== undefined && !Number.isFinite(v)) return say(`${input.getAttribute('aria-label')}: not a number`, 'error');
    // A margin is a scoring run's: the run the toolbar shows becomes the query's.
    if (v !== state.query[key]) void setQuery({ [key]: v, ...(v !== undefined && state.query.runId === undefined ? { runId: runId() } : {}) });
  };
  input.addEventListener('change', apply);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      apply();
      input.blur();
    }
  });
}
sortSelect.addEventListener('change', () => void setQuery({ sort: sortSelect.value as QueueQuery['sort'] }));
runSelect.addEventListener('change', () => void setQuery({ runId: Number(runSelect.value) || undefined }));
compareSelect.addEventListener('change', () => {
  save({ compareRunId: Number(compareSelect.value) || undefined });
  void paintHeatmap();
});
heatSelect.addEventListener('change', () => {
  save({ heatmap: heatSelect.value as HeatmapMode });
  void paintHeatmap();
});

// ---- messages from the host -------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (client.handle(m)) return;
  switch (m.type) {
    case 'init':
      trusted = m.trusted;
      state = { ...DEFAULT_STATE, ...(vscode.getState() ?? m.state ?? {}) };
      if (m.query) state = { ...state, query: keepOrder(m.query, state.query), index: 0, pairId: undefined };
      side.questionOpen = state.questionOpen;
      syncControls();
      void (async () => {
        await loadRuns();
        await queue.reset();
        if (m.focusPairId !== undefined) await openAt(m.focusPairId);
        else await go(state.index);
      })();
      return;
    case 'focusPair':
      void openAt(m.pairId);
      return;
    case 'setQuery':
      void replaceQuery(m.query);
      return;
    case 'refresh':
      details.clear();
      rewardCache.clear();
      void (async () => {
        await loadRuns();
        await queue.reset();
        await go(state.index);
      })();
      return;
  }
});

applyTheme();
vscode.postMessage({ type: 'ready' });

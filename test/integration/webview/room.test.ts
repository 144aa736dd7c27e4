// The review room's webview in real Chromium against a stub host (test/support/roomHost.ts): the
// message contract it speaks, its keyboard map, the heatmap's colours for known rewards, and that
// hostile text (model output, dataset text, test output, notes) stays text under its CSP.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FromWebview, Pair, QueuePage, QueueRow, Rewards, RoomState, Status } from '../../../webview/contract';
import { binColour } from '../../../webview/review/heatmap';
import { root } from '../../support/paths';
import { CHROMIUM, launchBrowser, openRoom, type Answer, type RoomPage } from '../../support/roomHost';

const dist = path.join(root, 'dist', 'webview');
/** Screenshots kept as test artifacts. */
const artifacts = path.join(root, 'test-results', 'webview');
const available = existsSync(path.join(dist, 'review.js')) && existsSync(CHROMIUM);

const HOSTILE = '</script><img src=x onerror="window.__pwned=1;alert(1)"> &amp; &lt;b&gt; \u001b[31mred\u001b[0m';

function row(id: number, status: Status = 'pending', hostile = false): QueueRow {
  return { pairId: id, status, kind: 'fim', blockKind: 'if', depth: 1, editDistance: 1, flags: [], problem: hostile ? `demo/${HOSTILE}` : 'demo/p', rejectedLine: hostile ? `y = "${HOSTILE}"` : `if x != ${id}:`, rejectedVerdict: 'wrong_answer', margin: null, note: hostile ? HOSTILE : null };
}

function pair(id: number, hostile = false): Pair {
  const chosen = hostile ? `    if x == 0:\n        y = "ok ${HOSTILE}"` : '    if x == 0:\n        y = 1';
  const rejected = hostile ? `    if x != 0:\n        y = "${HOSTILE}"` : '    if x != 0:\n        y = 1';
  return {
    pairId: id,
    mode: 'structurecoder',
    kind: 'fim',
    status: 'pending',
    note: hostile ? HOSTILE : null,
    flags: [],
    problem: { id: 1, label: 'demo/p', question: hostile ? `Print it. ${HOSTILE}` : 'Print it.' },
    blockKind: 'if',
    depth: 1,
    editDistance: 1,
    pre: 'x = int(input())\n',
    suf: '\nprint(y)',
    chosen,
    rejected,
    chosenSpans: [[0, chosen.length]],
    rejectedSpans: [[0, rejected.length]],
    marks: [
      { start: 0, end: 15, kind: 'line' },
      { start: 9, end: 11, kind: 'token' },
    ],
    rejectedRun: { verdict: 'wrong_answer', testsRun: 1, testsTotal: 3, comparator: 'strict', executedAt: '2026-01-01T00:00:00Z', test: { ordinal: 0, verdict: 'wrong_answer', durationMs: 3, input: '0\n', expected: '1\n', output: hostile ? HOSTILE : '0\n', stderrTail: hostile ? HOSTILE : undefined } },
    candidates: [{ sampleId: 9, ordinal: 1, verdict: 'pass', middle: chosen, model: 'm', role: 'chosen' }],
  };
}

/** Rewards of pair 1 with known values: the chosen side's first token +0.4 (the clamp), the
 * rejected side's second token -0.4. */
function rewards(id: number): Rewards {
  const tok = (text: string, start: number, reward: number, inLoss = true) => ({ text, start, end: start + text.length, logpPolicy: -1 + reward, logpRef: -1, reward, inLoss });
  return {
    pairId: id,
    runId: 1,
    beta: 0.1,
    margin: -0.25,
    prefersChosen: false,
    chosen: { tokens: [tok('    if', 0, 0.4), tok(' x', 6, 0.01), tok(' ==', 8, 0.2)], rewardSum: 0.61, maskedRewardSum: 0.61 },
    rejected: { tokens: [tok('    if', 0, 0.01), tok(' x', 6, -0.4), tok(' !=', 8, -0.2, false)], rewardSum: -0.59, maskedRewardSum: -0.39 },
  };
}

function host(statuses: Map<number, Status>, n = 12, hostileId = 3): Answer {
  return {
    queuePage: ({ offset, limit }) => {
      const rows = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, i) => row(offset + i + 1, statuses.get(offset + i + 1), offset + i + 1 === hostileId));
      const counts = { pending: 0, accepted: 0, rejected: 0, flagged: 0 };
      for (let i = 1; i <= n; i++) counts[statuses.get(i) ?? 'pending']++;
      return { total: n, offset, rows, counts, allCounts: { ...counts } } satisfies QueuePage;
    },
    queueIndex: ({ pairId }) => ({ index: pairId >= 1 && pairId <= n ? pairId - 1 : -1 }),
    queueNext: ({ after, status }) => {
      for (let i = after + 1; i < n; i++) if ((statuses.get(i + 1) ?? 'pending') === status) return { index: i };
      return { index: -1 };
    },
    pair: ({ pairId }) => pair(pairId, pairId === hostileId),
    scoringRuns: () => [{ id: 1, label: 'policy vs reference', beta: 0.1, createdAt: '2026-01-01', scoredPairs: 1 }],
    // Pair 1 scored; pair 4's rejected side skipped (over the context); the rest not scored.
    rewards: ({ pairId }) =>
      pairId === 1
        ? rewards(1)
        : pairId === 4
          ? { ...rewards(4), margin: null, prefersChosen: null, rejected: { tokens: [], rewardSum: 0, maskedRewardSum: 0, skipped: 'over the context length (2048)' } }
          : null,
    runTests: ({ chosen }) => ({ verdict: chosen.includes('if x == 0') ? 'pass' : 'wrong_answer', testsTotal: 3, tests: [{ ordinal: 0, verdict: 'pass', durationMs: 2 }], isolation: 'bwrap-nobody' }),
    saveEdit: ({ pairId, chosen }) => ({
      ...pair(pairId),
      chosen,
      chosenSpans: [[0, chosen.length]],
      candidates: pair(pairId).candidates.map((c) => ({ ...c, role: 'replaced' as const })),
      edit: { id: 1, reviewer: 'me', at: '2026-01-01T00:00:00Z', replaced: pair(pairId).chosen, replacedSamples: [9], verdict: 'pass', isolation: 'bwrap-nobody' },
    }),
    decide: ({ pairIds, status }) => {
      for (const id of pairIds) statuses.set(id, status);
      return { updated: pairIds.length };
    },
    undo: () => ({ action: 'status', pairs: [{ pairId: 1, status: 'pending' }] }),
    score: () => ({ started: true }),
  };
}

describe.skipIf(!available)('the review room webview (Chromium, stub host)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(statuses = new Map<number, Status>(), theme: 'vscode-light' | 'vscode-dark' = 'vscode-light'): Promise<RoomPage> {
    const room = await openRoom(browser, dist, host(statuses), { theme });
    await room.waitFor((m) => m.type === 'ready');
    await room.send({ type: 'init', trusted: true });
    await room.page.locator('.pf-row-selected').waitFor({ timeout: 15_000 });
    await room.page.locator('.view-line').first().waitFor({ timeout: 15_000 });
    return room;
  }

  it('speaks the contract: ready, then a page of the queue, the scoring runs, the first pair and its rewards', async () => {
    const room = await open();
    try {
      const requests = room.posted.filter((m) => m.type === 'request').map((m) => (m.type === 'request' ? { method: m.method, params: m.params } : null));
      expect(room.posted[0]).toEqual({ type: 'ready' });
      // The queue is asked under the scoring run the toolbar shows (the newest), so sorting and
      // filtering by margin work before the run box is touched.
      expect(requests).toContainEqual({ method: 'queuePage', params: { query: { runId: 1 }, offset: 0, limit: 100 } });
      expect(requests).toContainEqual({ method: 'scoringRuns', params: {} });
      expect(requests).toContainEqual({ method: 'pair', params: { pairId: 1 } });
      expect(requests).toContainEqual({ method: 'rewards', params: { pairId: 1, runId: 1 } });
      // Every request has a distinct id; the state is reported with the pair shown.
      const ids = room.posted.flatMap((m) => (m.type === 'request' ? [m.id] : []));
      expect(new Set(ids).size).toBe(ids.length);
      await room.waitFor((m) => m.type === 'state' && m.state.pairId === 1);
      expect(await room.page.locator('.pf-counts').textContent()).toBe('12 shown: 12 pending · 0 accepted · 0 rejected · 0 flagged');
      expect(room.violations).toEqual([]);
    } finally {
      await room.close();
    }
  });

  it("keys pressed before the next pair's details arrive decide the selected pair, not the one still shown", async () => {
    const statuses = new Map<number, Status>();
    // The engine answers slowly for every pair after the first (a busy engine, a large project).
    const slow: Answer = {
      ...host(statuses),
      pair: async ({ pairId }) => {
        if (pairId > 1) await new Promise((r) => setTimeout(r, 1_500));
        return pair(pairId);
      },
    };
    const room = await openRoom(browser, dist, slow, { theme: 'vscode-light' });
    try {
      await room.waitFor((m) => m.type === 'ready');
      await room.send({ type: 'init', trusted: true });
      await room.page.locator('.pf-row-selected[data-pair="1"]').waitFor({ timeout: 15_000 });
      await room.page.locator('.view-line').first().waitFor({ timeout: 15_000 });
      const decided = (pairId: number) => (m: FromWebview) => m.type === 'request' && m.method === 'decide' && (m.params as { pairIds: number[] }).pairIds[0] === pairId;
      await room.press('a', decided(1));
      // Row 2 is selected at once; its details are still on their way: a, then r.
      await room.page.locator('.pf-row-selected[data-pair="2"]').waitFor({ timeout: 5_000 });
      await room.press('a', decided(2));
      await room.page.locator('.pf-row-selected[data-pair="3"]').waitFor({ timeout: 5_000 });
      await room.press('r', decided(3));
      const decisions = room.posted.flatMap((m) => (m.type === 'request' && m.method === 'decide' ? [m.params] : []));
      expect(decisions).toEqual([
        { pairIds: [1], status: 'accepted' },
        { pairIds: [2], status: 'accepted' },
        { pairIds: [3], status: 'rejected' },
      ]);
      expect([...statuses]).toEqual([[1, 'accepted'], [2, 'accepted'], [3, 'rejected']]);
      await expect.poll(() => room.page.locator('.pf-counts').textContent()).toBe('12 shown: 9 pending · 2 accepted · 1 rejected · 0 flagged');
      expect(await room.page.locator('.pf-row[data-pair="2"] .pf-row-status').textContent()).toBe('✓');
    } finally {
      await room.close();
    }
  });

  it('opened at a pair (the Pairs view, a dashboard list) selects its row, and the keys go on from there', async () => {
    const statuses = new Map<number, Status>();
    const room = await open(statuses);
    try {
      await room.send({ type: 'focusPair', pairId: 7 });
      await room.page.locator('.pf-row-selected[data-pair="7"]').waitFor({ timeout: 10_000 });
      await room.waitFor((m) => m.type === 'state' && m.state.pairId === 7 && m.state.index === 6);
      await room.press('a', (m) => m.type === 'request' && m.method === 'decide');
      expect(statuses.get(7)).toBe('accepted');
      await room.page.locator('.pf-row-selected[data-pair="8"]').waitFor({ timeout: 10_000 });
      // A pair outside the queue's filters is shown, and the room says so.
      await room.send({ type: 'focusPair', pairId: 99 });
      await expect.poll(() => room.page.locator('.pf-banner').textContent()).toBe('pair 99 is not in the queue under these filters');
    } finally {
      await room.close();
    }
  });

  it('the toolbar filters by block kind, depth, rejected verdict and a margin range in the shown run', async () => {
    const room = await open();
    const p = room.page;
    try {
      const asked = (pred: (q: Record<string, unknown>) => boolean) => (m: FromWebview) => m.type === 'request' && m.method === 'queuePage' && pred((m.params as { query: Record<string, unknown> }).query);
      let from = room.posted.length;
      await p.selectOption('select[aria-label="block kind filter"]', 'for');
      await room.waitFor(asked((q) => JSON.stringify(q.blockKinds) === '["for"]'), from);
      from = room.posted.length;
      await p.selectOption('select[aria-label="depth filter"]', '2');
      await room.waitFor(asked((q) => JSON.stringify(q.depths) === '[2]' && JSON.stringify(q.blockKinds) === '["for"]'), from);
      from = room.posted.length;
      await p.selectOption('select[aria-label="rejected verdict filter"]', 'timeout');
      await room.waitFor(asked((q) => JSON.stringify(q.rejectedVerdicts) === '["timeout"]'), from);
      from = room.posted.length;
      await p.fill('input[aria-label="lowest margin"]', '-0.25');
      await p.press('input[aria-label="lowest margin"]', 'Enter');
      await room.waitFor(asked((q) => q.marginMin === -0.25 && q.runId === 1), from);
      // The controls show the query, and no filter chip is needed for what they show.
      await room.waitFor((m) => m.type === 'state' && m.state.query.marginMin === -0.25);
      expect(await p.locator('.pf-filter').isHidden()).toBe(true);
      mkdirSync(artifacts, { recursive: true });
      await p.screenshot({ path: path.join(artifacts, 'room-toolbar-filters.png') });
      from = room.posted.length;
      await p.selectOption('select[aria-label="block kind filter"]', '');
      await room.waitFor(asked((q) => q.blockKinds === undefined && q.marginMin === -0.25), from);
      // A query set from outside (a dashboard mark) replaces the filters but keeps the order.
      await p.selectOption('select[aria-label="sort"]', 'margin');
      from = room.posted.length;
      await room.send({ type: 'setQuery', query: { blockKinds: ['while'], depths: [2] } });
      await room.waitFor(asked((q) => JSON.stringify(q) === JSON.stringify({ blockKinds: ['while'], depths: [2], sort: 'margin', runId: 1 })), from);
      expect(await p.locator('select[aria-label="sort"]').inputValue()).toBe('margin');
    } finally {
      await room.close();
    }
  });

  it('after a reload (the panel serializer gives its state back): the same filters, pair, row and heatmap mode', async () => {
    const first = await open();
    let saved: RoomState | undefined;
    try {
      await first.page.selectOption('select[aria-label="block kind filter"]', 'if');
      await first.page.selectOption('select[aria-label="heatmap"]', 'policy');
      for (let i = 0; i < 4; i++) await first.press('j', (m) => m.type === 'state' && m.state.index === i + 1);
      const last = [...first.posted].reverse().find((m) => m.type === 'state');
      saved = last?.type === 'state' ? last.state : undefined;
    } finally {
      await first.close();
    }
    expect(saved).toMatchObject({ pairId: 5, index: 4, heatmap: 'policy', query: { blockKinds: ['if'] } });
    const room = await openRoom(browser, dist, host(new Map()), { theme: 'vscode-light' });
    try {
      await room.waitFor((m) => m.type === 'ready');
      await room.send({ type: 'init', trusted: true, state: saved });
      await room.page.locator('.pf-row-selected[data-pair="5"]').waitFor({ timeout: 15_000 });
      await room.waitFor((m) => m.type === 'state' && m.state.pairId === 5);
      expect(await room.page.locator('select[aria-label="heatmap"]').inputValue()).toBe('policy');
      expect(await room.page.locator('select[aria-label="block kind filter"]').inputValue()).toBe('if');
      expect(room.posted).toContainEqual(expect.objectContaining({ type: 'request', method: 'queuePage', params: expect.objectContaining({ query: { blockKinds: ['if'], runId: 1 } }) }));
    } finally {
      await room.close();
    }
  });

  it('a pair without scores says so and offers Score Pairs; a scored one shows a token on hover', async () => {
    const room = await open();
    const p = room.page;
    try {
      // Pair 1 is scored: hovering its chosen side's first token shows both log-probs and the reward.
      // The token painted strongest on the chosen side is "    if" (reward +0.4, the clamp).
      const token = p.locator('.editor.original [class*="pf-heat-div-p8"]').first();
      const box = (await token.boundingBox())!;
      await p.mouse.move(box.x + box.width - 3, box.y + box.height / 2, { steps: 3 });
      await p.locator('.pf-tooltip').waitFor({ state: 'visible', timeout: 5_000 });
      const tip = await p.locator('.pf-tooltip').textContent();
      expect(tip).toContain('chosen token "    if"');
      expect(tip).toContain('log p policy -0.6000 · reference -1.0000');
      expect(tip).toContain('= reward 0.4000');
      expect(tip).toContain('in the loss');
      // Pair 2 has no score in the run shown: it says so and offers to score it.
      await room.press('j', (m) => m.type === 'state' && m.state.pairId === 2);
      await expect.poll(() => p.locator('.pf-figures').textContent()).toBe('pair 2 has no score in this run Score this pair');
      const from = room.posted.length;
      await p.locator('.pf-figures button', { hasText: 'Score this pair' }).click();
      await room.waitFor((m) => m.type === 'request' && m.method === 'score' && JSON.stringify(m.params) === '{"pairIds":[2]}', from);
      // Pair 4: one side scored, the other skipped: the scored side's figure, the reason, no margin.
      await room.press('j', (m) => m.type === 'state' && m.state.pairId === 3);
      await room.press('j', (m) => m.type === 'state' && m.state.pairId === 4);
      await expect.poll(() => p.locator('.pf-figures').textContent()).toBe('chosen Σr (loss) 0.610rejected: not scored (over the context length (2048))no margin without both sidesbeta 0.1 · run 1');
      expect(await p.locator('.editor.original [class*="pf-heat-div-p8"]').count()).toBeGreaterThan(0);
    } finally {
      await room.close();
    }
    // A project without any scoring run: the empty state, and Score Pairs for all of them.
    const none = await openRoom(browser, dist, { ...host(new Map()), scoringRuns: () => [] }, { theme: 'vscode-light' });
    try {
      await none.waitFor((m) => m.type === 'ready');
      await none.send({ type: 'init', trusted: true });
      await expect.poll(() => none.page.locator('.pf-figures').textContent()).toBe('No per-token rewards yet: score the pairs with a policy and a reference model. Score Pairs');
      const from = none.posted.length;
      await none.page.locator('.pf-figures button', { hasText: 'Score Pairs' }).click();
      await none.waitFor((m) => m.type === 'request' && m.method === 'score' && JSON.stringify(m.params) === '{}', from);
    } finally {
      await none.close();
    }
  });

  it('a candidate of the target opens on the right against the chosen side, and the rejected side comes back', async () => {
    const room = await open();
    const p = room.page;
    try {
      await p.locator('.pf-candidate').first().click();
      await expect.poll(() => p.locator('.pf-banner').textContent()).toBe('right: candidate #1 (pass) against the chosen side');
      const right = async () => (await p.locator('.editor.modified .view-lines').textContent())!.replace(/\u00a0/g, ' ');
      const left = async () => (await p.locator('.editor.original .view-lines').textContent())!.replace(/\u00a0/g, ' ');
      await expect.poll(right).toContain('if x == 0:');
      expect(await left()).toContain('if x == 0:');
      expect(await right()).not.toContain('if x != 0:');
      await p.locator('button', { hasText: 'show the rejected side again' }).click();
      await expect.poll(right).toContain('if x != 0:');
    } finally {
      await room.close();
    }
  });

  it('keyboard: a, r, f with a note, u, j, k, n, s, h, ? and /', async () => {
    const statuses = new Map<number, Status>();
    const room = await open(statuses);
    const p = room.page;
    const lastRequest = () => [...room.posted].reverse().find((m) => m.type === 'request');
    try {
      const decided = (params: unknown) => (m: FromWebview) => m.type === 'request' && m.method === 'decide' && JSON.stringify(m.params) === JSON.stringify(params);
      const onPair = (pairId: number, index?: number) => (m: FromWebview) => m.type === 'state' && m.state.pairId === pairId && (index === undefined || m.state.index === index);
      let from = room.posted.length;
      await room.press('a', decided({ pairIds: [1], status: 'accepted' }));
      await room.waitFor(onPair(2), from);
      from = room.posted.length;
      await room.press('r', decided({ pairIds: [2], status: 'rejected' }));
      await room.waitFor(onPair(3), from);
      // Pair 3 has a note already (the hostile one): the dialog starts with it; replace it.
      await p.keyboard.press('f');
      await p.locator('.pf-note-input').waitFor({ state: 'visible' });
      expect(await p.locator('.pf-note-input').inputValue()).toContain('onerror');
      await p.keyboard.press('Control+A');
      await p.keyboard.type('why: the suffix changed too');
      await room.press('Enter', decided({ pairIds: [3], status: 'flagged', note: 'why: the suffix changed too' }));
      await expect.poll(() => p.locator('.pf-counts').textContent()).toBe('12 shown: 9 pending · 1 accepted · 1 rejected · 1 flagged');
      from = room.posted.length;
      await room.press('u', (m) => m.type === 'request' && m.method === 'undo');
      await room.waitFor(onPair(1), from);
      await expect.poll(() => p.locator('.pf-row[data-pair="1"] .pf-row-status').textContent()).toBe('•');
      await room.press('j', onPair(2, 1));
      await room.press('k', onPair(1, 0));
      // n: the next pending pair after 1 is 4 (2 rejected, 3 flagged).
      await room.press('n', onPair(4));
      // The engine found it (one request), not a scan of the queue's pages.
      expect(room.posted.filter((m) => m.type === 'request' && m.method === 'queueNext').map((m) => (m.type === 'request' ? m.params : null))).toEqual([{ query: { runId: 1 }, after: 0, status: 'pending' }]);
      await room.press('s', onPair(5));
      expect(lastRequest()).not.toMatchObject({ method: 'decide', params: { pairIds: [4] } });
      await room.press('h', (m) => m.type === 'state' && m.state.heatmap === 'policy');
      await p.keyboard.press('?');
      expect(await p.locator('.pf-overlay[aria-label="keys"]').isVisible()).toBe(true);
      expect(await p.locator('.pf-overlay[aria-label="keys"] .pf-key').allTextContents()).toEqual(['a', 'r', 'f', 's', 'u', 'j', 'k', 'n', 'e', 't', 'h', '/', '?']);
      await p.keyboard.press('Escape');
      expect(await p.locator('.pf-overlay[aria-label="keys"]').isVisible()).toBe(false);
      await p.keyboard.press('/');
      expect(await p.evaluate('document.activeElement?.className')).toBe('pf-search');
      await p.keyboard.type('stack');
      await p.keyboard.press('Enter');
      await room.waitFor((m) => m.type === 'request' && m.method === 'queuePage' && (m.params as { query: { search?: string } }).query.search === 'stack');
      // Typing in the search box decided nothing.
      expect(room.posted.filter((m) => m.type === 'request' && m.method === 'decide')).toHaveLength(3);
    } finally {
      await room.close();
    }
  });

  it('edits the chosen side: e, typing, Esc leaves the editor, t runs its tests, Ctrl+S saves', async () => {
    const room = await open();
    const p = room.page;
    try {
      await p.keyboard.press('e');
      await room.page.locator('.pf-banner', { hasText: 'Editing the chosen side' }).waitFor();
      // Into the block (line 2 of the program), then text: letters are code here, not keys.
      await p.keyboard.press('Control+Home');
      await p.keyboard.press('ArrowDown');
      await p.keyboard.press('End');
      await p.keyboard.type('  # ok');
      expect(room.posted.filter((m) => m.type === 'request' && m.method === 'decide')).toHaveLength(0);
      await p.keyboard.press('Escape');
      await room.page.locator('.pf-banner', { hasText: 'The edit is kept' }).waitFor();
      await p.keyboard.press('t');
      const run = await room.waitFor((m) => m.type === 'request' && m.method === 'runTests');
      expect(run.type === 'request' && run.params).toEqual({ pairId: 1, chosen: '    if x == 0:  # ok\n        y = 1' });
      await room.page.locator('.pf-banner', { hasText: 'edited side: pass' }).waitFor();
      // Moving on is refused while the edit is pending.
      await p.keyboard.press('j');
      await room.page.locator('.pf-banner', { hasText: 'finish the edit first' }).waitFor();
      await p.keyboard.press('Control+s');
      const saved = await room.waitFor((m) => m.type === 'request' && m.method === 'saveEdit');
      expect(saved.type === 'request' && saved.params).toEqual({ pairId: 1, chosen: '    if x == 0:  # ok\n        y = 1' });
      await room.page.locator('.pf-side', { hasText: 'edited by me' }).waitFor();
      // The saved verdict with the sandbox it ran in, and the sample it replaced no longer "chosen".
      expect(await p.locator('.pf-side .pf-field', { hasText: 'chosen side' }).textContent()).toContain('(pass · bwrap-nobody); replaced candidate #1');
      expect(await p.locator('.pf-candidate').first().textContent()).toContain('#1 (chosen until edited)');
      expect(room.violations).toEqual([]);
    } finally {
      await room.close();
    }
  });

  it('paints rewards on one diverging scale, blue up and orange down, clamped and muted outside the loss', async () => {
    for (const theme of ['vscode-light', 'vscode-dark'] as const) {
      const room = await open(new Map(), theme);
      const p = room.page;
      try {
        await p.locator('.pf-heat-div-p8').first().waitFor({ timeout: 10_000 });
        const bg = (cls: string) => p.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(cls)})).backgroundColor`);
        const t = theme === 'vscode-dark' ? 'dark' : 'light';
        // +0.4 and -0.4 are the clamp (95th percentile of |values|): the strongest bins.
        expect(await bg('.pf-heat-div-p8')).toBe(binColour(8, t));
        expect(await bg('.pf-heat-div-n8')).toBe(binColour(-8, t));
        expect(binColour(8, t)).toMatch(/^rgba\(33, 102, 172,/);
        expect(binColour(-8, t)).toMatch(/^rgba\(230, 97, 1,/);
        // ±0.2 is half the clamp: bin 4; a token outside the loss is muted.
        // (Monaco may split one decorated token into several spans, by syntax colour.)
        const text = async (cls: string) => (await p.locator(cls).allTextContents()).join('').replace(/\u00a0/g, ' ');
        expect(await text('.pf-heat-div-p4')).toBe(' ==');
        expect(await text('.pf-heat-div-n4.pf-out-of-loss')).toBe(' !=');
        expect(await p.locator('.pf-legend').textContent()).toContain('clamp ±0.4');
        expect(await p.locator('.pf-figures').textContent()).toContain('the policy still prefers the rejected side');
        expect(await p.locator('.pf-figures').textContent()).toContain('margin -0.250');
      } finally {
        await room.close();
      }
    }
  });

  it('keeps hostile text as text: no element, script or dialog comes from it, under the CSP', async () => {
    const room = await open();
    const p = room.page;
    try {
      await p.keyboard.press('j');
      await p.keyboard.press('j');
      await room.waitFor((m) => m.type === 'state' && m.state.pairId === 3);
      await p.locator('.pf-side', { hasText: 'onerror' }).waitFor({ timeout: 10_000 });
      await p.locator('.pf-question summary').click();
      await p.waitForTimeout(300);
      // The text is there, literally, in the side panel and in the editor.
      const side = await p.locator('.pf-side').textContent();
      expect(side).toContain('<img src=x onerror="window.__pwned=1;alert(1)">');
      expect(side).toContain('&amp; &lt;b&gt;');
      expect(side).toContain('\u001b[31mred');
      // Both sides of the diff (chosen and rejected) and the queue's row hold it as text.
      // (Monaco draws spaces as no-break spaces.)
      const editors = (await p.locator('.monaco-editor').allTextContents()).map((t) => t.replace(/\u00a0/g, ' '));
      expect(editors.filter((t) => t.includes('onerror')).length).toBeGreaterThanOrEqual(2);
      expect(editors.some((t) => t.includes('ok </script>'))).toBe(true);
      expect(await p.locator('.pf-row-selected').textContent()).toContain('onerror');
      // Nothing it says became markup or ran.
      expect(await p.locator('img').count()).toBe(0);
      expect(await p.locator('b').count()).toBe(0);
      expect(await p.evaluate('window.__pwned')).toBeUndefined();
      expect(room.dialogs).toEqual([]);
      expect(await p.evaluate("document.querySelectorAll('script').length")).toBe(2);
      expect(room.violations).toEqual([]);
      // The policy itself: scripts by nonce only, no eval, nothing from elsewhere.
      const csp = await p.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'nonce-[^']+'(;|$)/);
      expect(csp).not.toMatch(/unsafe-eval|unsafe-inline'?;?\s*$/);
      // A script without the nonce does not run, and the page reports the attempt.
      await p.evaluate("{ const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s); }");
      await p.waitForTimeout(200);
      expect(await p.evaluate('window.__inline')).toBeUndefined();
      expect(room.violations.some((v) => v.startsWith('script-src'))).toBe(true);
    } finally {
      await room.close();
    }
  });
});

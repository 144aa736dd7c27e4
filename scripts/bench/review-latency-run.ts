// The review room's latency on a big project (run through scripts/bench/review-latency.mjs, which
// bundles this file): a project of N pairs, every one scored, is written through the stages' own
// store functions; the engine runs in this process; the room's webview runs in Chromium with the
// extension's own request table (extension/reviewRequests.ts) as its host. Measured in the page
// (window.__pfMetrics): key press to the next pair painted, the heatmap of a pair with 2,000
// scored tokens, and a text search over every pair (the query and the queue's first page).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answer, roomHandlers } from '../../extension/reviewRequests';
import { importFiles } from '../../server/import/importer';
import { problemIds, problemInfo } from '../../server/import/browse';
import { renderForTraining } from '../../server/pairs/render';
import { getPair, upsertPairs, type PairDraft } from '../../server/pairs/store';
import { ConfigureNotification } from '../../server/protocol';
import { createRun, finishRun, sideWriter, textSha, type SideRow } from '../../server/scoring/store';
import { openProject, type Project } from '../../server/store/db';
import { startInProcess } from '../../test/support/inProcess';
import { launchBrowser, openRoom, type Answer } from '../../test/support/roomHost';
import type { Method } from '../../webview/contract';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const PAIRS = opt('pairs', 100_000);
const PRESSES = opt('presses', 220);
const SEARCHES = opt('searches', 30);
const BIG_TOKENS = 1000; // per side: 2,000 scored tokens on screen
const json = args.includes('--json');
// The repository: given by the launcher (this file runs from a bundle elsewhere).
const dist = path.join(process.env.PAIRFORGE_ROOT ?? process.cwd(), 'dist', 'webview');
const log = (s: string) => process.stderr.write(`${s}\n`);

const WORDS = ['total', 'count', 'stack', 'value', 'index', 'result', 'answer', 'left', 'right', 'node', 'graph', 'queue', 'prefix', 'suffix', 'window', 'memo', 'cache', 'limit', 'bound', 'pivot'];

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] : Number.NaN;
}

/** Problems: an APPS-format file imported by the import stage. */
async function importProblems(p: Project, dir: string, n: number): Promise<number[]> {
  const file = path.join(dir, 'problems.jsonl');
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ problem_id: i, question: `Problem ${i}: read n numbers and print the ${WORDS[i % WORDS.length]} of them.`, solutions: JSON.stringify([`print(${i})`]), input_output: JSON.stringify({ inputs: ['1\n'], outputs: [`${i}\n`] }) }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  await importFiles(p, [file]);
  return problemIds(p);
}

function middle(i: number, tokens: number, variant: string): string {
  const w = (k: number) => WORDS[(i * 7 + k) % WORDS.length];
  const body = Array.from({ length: Math.max(1, Math.ceil(tokens / 6)) }, (_, k) => `        ${w(k)}_${k} = ${w(k + 1)} ${variant} ${k}`).join('\n');
  return `    for x in range(n):\n${body}`;
}

function writePairs(p: Project, problems: number[], n: number, big: number): void {
  const batch: PairDraft[] = [];
  const flush = () => {
    upsertPairs(p, batch.splice(0));
  };
  for (let i = 0; i < n; i++) {
    const tokens = i === big ? BIG_TOKENS : 12;
    const chosen = middle(i, tokens, '+');
    const rejected = middle(i, tokens, '-');
    batch.push({
      pairKey: `bench:${i}`,
      mode: 'structurecoder',
      kind: 'fim',
      problemId: problems[i % problems.length],
      targetId: null,
      historyId: null,
      pre: 'n = int(input())\ntotal = 0\n',
      suf: '\nprint(total)',
      blockKind: ['if', 'for', 'while', 'def'][i % 4],
      depth: 1 + (i % 3),
      goldenLines: 2,
      chosen,
      rejected,
      chosenSpans: [[0, chosen.length]],
      rejectedSpans: [[0, rejected.length]],
      provenance: { rejected: { verdicts: [i % 5 === 0 ? 'runtime_error' : 'wrong_answer'] } },
      editDistance: 1 + (i % 9),
      flags: [],
      dupKey: `bench:${i}`,
    });
    if (batch.length === 2000) flush();
  }
  flush();
}

/** Every pair scored: synthetic log-probs on tokens of ~4 characters, stored by the scoring stage. */
function writeScores(p: Project, n: number): number {
  const now = new Date().toISOString();
  const family = 'qwen2.5-coder' as const;
  const runId = createRun(
    p,
    { specKey: 'bench', policy: [{ url: 'http://bench', model: 'policy' }], reference: [{ url: 'http://bench', model: 'reference' }], beta: 0.1, topK: 0, format: 'fim', family, trainingSentence: false, addSpecialTokens: true, selection: 'all', tokenizer: null },
    now,
  );
  const writer = sideWriter(p, runId, 0.1, 0);
  const questions = new Map<number, string>();
  let rows: SideRow[] = [];
  for (let id = 1; id <= n; id++) {
    const pair = getPair(p, id)!;
    if (!questions.has(pair.problemId)) questions.set(pair.problemId, problemInfo(p, [pair.problemId]).get(pair.problemId)!.question);
    const r = renderForTraining({ ...pair, question: questions.get(pair.problemId)! }, 'fim', { family, trainingSentence: false });
    for (const side of ['chosen', 'rejected'] as const) {
      const response = side === 'chosen' ? r.chosen : r.rejected;
      const chars = Array.from(response);
      const ranges: number[] = [];
      for (let s = 0; s < chars.length; s += 4) ranges.push(s, Math.min(chars.length, s + 4));
      const t = ranges.length / 2;
      const lp = new Float32Array(t);
      const lr = new Float32Array(t);
      let sum = 0;
      for (let k = 0; k < t; k++) {
        lp[k] = -Math.abs(Math.sin(id * 13 + k)) * 3;
        lr[k] = -Math.abs(Math.cos(id * 7 + k)) * 3;
        sum += 0.1 * (lp[k] - lr[k]);
      }
      rows.push({
        pairId: id,
        side,
        format: 'fim',
        textSha256: textSha(r.prompt, response),
        promptTokens: 40,
        spelling: 'plain',
        tokenIds: Int32Array.from({ length: t }, (_, k) => k),
        charRanges: Int32Array.from(ranges),
        lossMask: Uint8Array.from({ length: t }, () => 1),
        logpPolicy: lp,
        logpRef: lr,
        topPolicy: null,
        topRef: null,
        maskedTokens: t,
        maskedLogpPolicy: lp.reduce((a, b) => a + b, 0),
        maskedLogpRef: lr.reduce((a, b) => a + b, 0),
        rewardSum: sum,
        maskedRewardSum: sum,
        attempts: 1,
        createdAt: now,
      });
    }
    if (rows.length >= 2000) {
      writer.write(rows, new Map());
      rows = [];
    }
  }
  writer.write(rows, new Map());
  finishRun(p, runId, 'done', null, now);
  return runId;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pairforge-review-bench-'));
  const db = path.join(dir, 'project.sqlite');
  const big = Math.floor(PAIRS / 2);
  try {
    const built = performance.now();
    const p = openProject(db);
    try {
      const problems = await importProblems(p, dir, Math.max(50, Math.floor(PAIRS / 100)));
      writePairs(p, problems, PAIRS, big);
      log(`bench: ${PAIRS} pairs written (${((performance.now() - built) / 1000).toFixed(1)} s)`);
      writeScores(p, PAIRS);
    } finally {
      p.close();
    }
    const buildS = (performance.now() - built) / 1000;
    log(`bench: every pair scored (${buildS.toFixed(1)} s in all, ${(statSync(db).size / 1e6).toFixed(0)} MB)`);

    const engine = await startInProcess();
    await engine.client.sendNotification(ConfigureNotification, { dbPath: db, preset: 'structurecoder', extraKinds: [], trusted: false });
    const handlers = roomHandlers((type, params) => engine.client.sendRequest(type, params as never), {
      withProgress: (_title, body) => body(undefined, undefined),
      changed: () => undefined,
      score: () => undefined,
      sendToTraining: () => undefined,
    });
    const host: Answer = Object.fromEntries(Object.keys(handlers).map((m) => [m, (params: never) => answer(handlers, m as Method, params)]));
    const browser = await launchBrowser();
    try {
      const room = await openRoom(browser, dist, host, { theme: 'vscode-light' });
      const page = room.page;
      await room.waitFor((m) => m.type === 'ready');
      await room.send({ type: 'init', trusted: false });
      await page.locator('.pf-row-selected').waitFor({ timeout: 60_000 });
      await page.locator('.pf-heat-div-p8, .pf-heat-div-n8').first().waitFor({ timeout: 60_000 });
      await page.locator('.pf-figures').click();
      const metric = (name: string) => page.evaluate(`window.__pfMetrics.${name}.slice()`) as Promise<number[]>;
      // Polled from here: the page's CSP refuses the string evaluation an in-page wait would need.
      const waitCount = async (name: string, n: number) => {
        const until = Date.now() + 30_000;
        while ((await metric(name)).length < n) {
          if (Date.now() > until) throw new Error(`${name} did not reach ${n} measurements`);
          await new Promise((r) => setTimeout(r, 2));
        }
      };

      // Key press to the next pair painted.
      const before = (await metric('nextPairMs')).length;
      for (let i = 0; i < PRESSES; i++) {
        const count = before + i + 1;
        await page.keyboard.press('j');
        await waitCount('nextPairMs', count);
      }
      const next = (await metric('nextPairMs')).slice(before);
      log(`bench: ${next.length} presses of j`);

      // The heatmap of the pair with 2,000 scored tokens, each mode in turn, several rounds.
      await room.send({ type: 'focusPair', pairId: big + 1 });
      await page.locator('.pf-row-selected').waitFor({ timeout: 30_000 });
      await page.locator('[class*="pf-heat-div-"]').nth(50).waitFor({ timeout: 30_000 });
      const heatBefore = (await metric('heatmapMs')).length;
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('h');
        await page.waitForTimeout(30);
      }
      const heat = (await metric('heatmapMs')).slice(heatBefore);

      // Search over every pair: the engine's query and the queue's first page.
      for (let i = 0; i < SEARCHES; i++) {
        const count = i + 1;
        await page.keyboard.press('/');
        await page.keyboard.press('Control+A');
        await page.keyboard.type(`${WORDS[i % WORDS.length]}_${i % 7}`);
        await page.keyboard.press('Enter');
        await waitCount('searchMs', count);
      }
      const search = await metric('searchMs');
      const result = {
        pairs: PAIRS,
        scored_pairs: PAIRS,
        presses: next.length,
        next_pair_p50_ms: Number(percentile(next, 0.5).toFixed(1)),
        next_pair_p95_ms: Number(percentile(next, 0.95).toFixed(1)),
        heatmap_2k_tokens_ms: Number(percentile(heat, 0.5).toFixed(2)),
        heatmap_2k_tokens_p95_ms: Number(percentile(heat, 0.95).toFixed(2)),
        searches: search.length,
        search_p50_ms: Number(percentile(search, 0.5).toFixed(1)),
        search_p95_ms: Number(percentile(search, 0.95).toFixed(1)),
        build_s: Number(buildS.toFixed(1)),
        project_mb: Number((statSync(db).size / 1e6).toFixed(0)),
        load: os.loadavg().map((x) => Number(x.toFixed(2))),
      };
      if (!json) log(`bench: next pair p50 ${result.next_pair_p50_ms} ms, p95 ${result.next_pair_p95_ms} ms; heatmap of 2,000 tokens ${result.heatmap_2k_tokens_ms} ms; search p95 ${result.search_p95_ms} ms`);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      await room.close();
    } finally {
      await browser.close();
      await engine.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});

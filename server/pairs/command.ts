// `pairforge pairs`: verdicts in the store -> preference pairs (structurecoder or iterpref).
import { loadPython } from '../blocks/parser';
import { EXIT_INTERRUPTED, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, choiceOption, dbOf, intOption, interruptSignal, out, parseArgs, progressOf, showHelp, type Command } from '../cli/kit';
import { openProject } from '../store/db';
import { buildPairs, type BuildOptions, type BuildSummary } from './build';
import { describeFlags, describeNoPair } from './explain';
import { DEFAULT_FILTER_LIMITS } from './filters';
import { LINE_MODES, type LineMode } from './iterpref';
import { SC_SELECTIONS, type StructureCoderSelection } from './structurecoder';
import { endpointCounter, estimatingCounter } from './tokens';
import { ADMIT_ERRORS_REJECT, DEFAULT_REJECT } from './types';
import { COMPARATORS, VERDICTS, type Comparator, type Verdict, FIM_FAMILIES, type FimFamily, PAIR_MODES, type PairMode } from '../protocol';

const HELP = `usage: pairforge pairs --db PROJECT.sqlite --mode structurecoder|iterpref [options] [--json]

Pairs executed candidates and stores the pairs; filters only set flags. Idempotent: a re-run
changes nothing unless the verdicts changed, and review statuses always survive it. Pairs a
re-run no longer produces are kept and flagged 'stale'.

  --mode M               structurecoder (sampled FIM middles) | iterpref (iteration histories)
  --comparator C         strict | apps: whose verdicts to use (default strict when present)
structurecoder:
  --selection S          one-per-target (default: the first wrong middle in sampling order,
                         paired with the nearest passing one) | one-per-wrong
  --admit-errors         also reject middles that raise or time out (default: wrong_answer only)
  --reject-verdicts V,.. exactly these verdicts may be rejected
  --golden-fallback      use the golden middle as chosen when no sample of a target passes
  --preset KEY           only targets cut under this preset key
iterpref:
  --rejected one|all     one earlier failing version picked with the seed (default), or all
  --seed N               seed of that pick (default 42)
  --lines lcs|difflib    critical lines: exact line LCS (default), or the lines Python's
                         difflib.ndiff marks, as the published code does
filters:
  --max-tokens N         flag too_long above N tokens a side (default ${DEFAULT_FILTER_LIMITS.maxTokens})
  --max-critical-lines N flag too_many_critical above N lines (default ${DEFAULT_FILTER_LIMITS.maxCriticalLines})
  --endpoint URL         count tokens with this vLLM server's /tokenize (else estimated, and marked)
  --model NAME           the model /tokenize is asked about (default: the server's first)
  --family F             prompt family the token count renders FIM prompts with (default qwen2.5-coder)
  --json                 print the summary as JSON
${QUIET_HELP}`;

/** The first model a vLLM server lists, for /tokenize. */
export async function firstModel(endpoint: string): Promise<string | undefined> {
  try {
    const root = endpoint.replace(/\/+$/, '').replace(/\/v1$/, '');
    const res = await fetch(`${root}/v1/models`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { data?: { id?: string }[] };
    return body.data?.[0]?.id;
  } catch {
    return undefined;
  }
}

/** How a run's token counts came about, in words. */
export function describeTokens(s: Pick<BuildSummary, 'tokens'>): string {
  const c = s.tokens.counted;
  const parts = [
    c.tokenize ? `${c.tokenize} counted with the endpoint's /tokenize` : '',
    c.kept ? `${c.kept} kept from an earlier run's /tokenize count (this run could only estimate)` : '',
    c.estimate ? `${c.estimate} estimated (code points / 3)` : '',
  ].filter(Boolean);
  const fallback = s.tokens.fallbackReason ? `; /tokenize failed, so this run estimated: ${s.tokens.fallbackReason}` : '';
  return `${parts.join(', ') || 'no pairs counted'}${fallback}`;
}

export function formatBuildSummary(s: BuildSummary): string {
  const what = s.mode === 'structurecoder' ? 'targets' : 'histories';
  const lines = [
    `${s.mode} (${s.comparator} verdicts): ${s.pairs} pairs from ${s.paired} of ${s.sources} ${what}: ` +
      `${s.inserted} new, ${s.updated} updated, ${s.unchanged} unchanged`,
  ];
  if (s.sources > s.paired) lines.push(`  no pair from ${s.sources - s.paired} ${what}: ${describeNoPair(s.skipped)}`);
  if (s.unexecuted || s.flaky) lines.push(`  left out: ${s.unexecuted} candidates without a verdict, ${s.flaky} flaky`);
  const flags = describeFlags({ ...s.flags, duplicate: s.duplicates, ...(s.stale ? { stale: s.stale } : {}) }, s.limits.maxTokens);
  if (flags) lines.push(`  flags (set, never deleted; flagged pairs are not exported unless accepted): ${flags}${s.stale ? ' (stale: newly stale)' : ''}; duplicates counted over the whole project`);
  lines.push(`  tokens: ${describeTokens(s)}`);
  if (s.cancelled) lines.push('interrupted: pairs written so far are kept; run the same command again to finish');
  return lines.join('\n');
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('pairs', argv, {
    values: ['db', 'mode', 'comparator', 'selection', 'reject-verdicts', 'preset', 'rejected', 'seed', 'lines', 'max-tokens', 'max-critical-lines', 'endpoint', 'model', 'family'],
    flags: ['json', 'admit-errors', 'golden-fallback', ...PROGRESS_FLAGS],
  });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('pairs', a, true);
  if (a.positionals.length > 0) throw new UsageError(`pairs: unexpected argument ${a.positionals[0]}`);
  const mode = choiceOption<PairMode>('pairs', a, 'mode', PAIR_MODES);
  if (!mode) throw new UsageError('pairs: --mode structurecoder|iterpref is required');
  let reject: readonly Verdict[] = a.flags.has('admit-errors') ? ADMIT_ERRORS_REJECT : DEFAULT_REJECT;
  const rv = a.values.get('reject-verdicts');
  if (rv !== undefined) {
    if (a.flags.has('admit-errors')) throw new UsageError('pairs: give --admit-errors or --reject-verdicts, not both');
    const list = rv.split(',').map((s) => s.trim()).filter(Boolean);
    for (const v of list) if (v === 'pass' || !(VERDICTS as readonly string[]).includes(v)) throw new UsageError(`pairs: --reject-verdicts: '${v}' is not a failing verdict (${VERDICTS.slice(1).join(', ')})`);
    reject = list as Verdict[];
  }
  const sel = choiceOption<StructureCoderSelection>('pairs', a, 'selection', SC_SELECTIONS);
  const pick = choiceOption<'one' | 'all'>('pairs', a, 'rejected', ['one', 'all']);
  const lines = choiceOption<LineMode>('pairs', a, 'lines', LINE_MODES);
  const comparator = choiceOption<Comparator>('pairs', a, 'comparator', COMPARATORS);
  const family = choiceOption<FimFamily>('pairs', a, 'family', FIM_FAMILIES);
  const seed = intOption('pairs', a, 'seed', 0);
  const maxTokens = intOption('pairs', a, 'max-tokens', 1);
  const maxCritical = intOption('pairs', a, 'max-critical-lines', 0);
  if (mode === 'iterpref' && (sel || a.flags.has('admit-errors') || rv || a.flags.has('golden-fallback') || a.values.has('preset'))) {
    throw new UsageError('pairs: --selection, --admit-errors, --reject-verdicts, --golden-fallback and --preset are structurecoder options');
  }
  if (mode === 'structurecoder' && (pick || seed !== undefined || lines)) throw new UsageError('pairs: --rejected, --seed and --lines are iterpref options');
  const endpoint = a.values.get('endpoint');
  let tokens = estimatingCounter();
  if (endpoint) {
    const model = a.values.get('model') ?? (await firstModel(endpoint));
    tokens = model ? endpointCounter(endpoint, model) : tokens;
  }
  const opts: BuildOptions = {
    mode,
    reject,
    tokens,
    limits: { ...(maxTokens !== undefined ? { maxTokens } : {}), ...(maxCritical !== undefined ? { maxCriticalLines: maxCritical } : {}) },
    ...(comparator ? { comparator } : {}),
    ...(sel ? { selection: sel } : {}),
    ...(a.flags.has('golden-fallback') ? { goldenFallback: true } : {}),
    ...(a.values.has('preset') ? { preset: a.values.get('preset')! } : {}),
    ...(pick ? { pick } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(lines ? { lines } : {}),
    ...(family ? { family } : {}),
  };
  const signal = interruptSignal();
  const progress = progressOf(a);
  progress.stage(`pairs (${mode})`, mode === 'iterpref' ? 'histories' : 'targets');
  const grammar = await loadPython();
  const p = openProject(db);
  try {
    const s = await buildPairs(p, grammar, { ...opts, signal, onProgress: (done, total) => progress.update({ done, total }) });
    progress.end();
    out(a.flags.has('json') ? JSON.stringify(s) : formatBuildSummary(s));
    return s.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
  } finally {
    p.close();
  }
}

export const pairsCommand: Command = {
  name: 'pairs',
  summary: 'pairs --db P --mode M                 pair executed candidates (structurecoder | iterpref)',
  help: HELP,
  run,
};

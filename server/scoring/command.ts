// `pairforge score`: per-token DPO rewards of a project's pairs under a policy and a reference
// model; `pairforge rewards`: read them back (one pair's tokens, the runs, a run's pairs by margin).
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROGRESS_FLAGS, QUIET_HELP, UsageError, choiceOption, dbOf, err, intOption, interruptSignal, out, parseArgs, progressOf, settingOption, showHelp, type Command } from '../cli/kit';
import { rootUrl } from '../sampling/client';
import { API_KEY_ENV, type PoolEndpoint } from '../sampling/endpoints';
import { DEFAULTS as SAMPLING_DEFAULTS } from '../sampling/job';
import { openProject } from '../store/db';
import { MAX_TOP_K, SCORE_DEFAULTS, scorePairs, type ScoreSpec, type ScoreSummary } from './job';
import { listRuns, pairRewards, pairsByMargin, SELECTION_NAMES, type PairRewards, type ScoreSelection } from './store';
import { FIM_FAMILIES, type FimFamily } from '../protocol';

const SCORE_HELP = `usage: pairforge score --db PROJECT.sqlite --policy URL[,URL...] [--policy-model M]
                      --reference URL[,URL...] [--reference-model M] [options] [--json]

Scores every side of the selected pairs token by token: r_t = beta * (logp_policy(t) - logp_ref(t)),
DPO's implicit reward. Each side is rendered exactly as \`pairforge export\` writes it, its prompt
and response tokenized separately with the server's /tokenize, and the concatenated ids sent to
both models with prompt_logprobs. Both models must tokenize alike (checked on a probe first).
Stored per run, pair and side: token ids, each token's character range in the response (Unicode
code points), log-probs under both models, optional top-k alternatives, the loss mask; per pair the
masked reward sums, the margin and whether the policy prefers the chosen side. Read them with
pairforge rewards.

  --policy URL[,URL...]     the policy's server(s) (root or .../v1); several share the work
  --policy-model M          its served model name (default: the server's only model)
  --reference URL[,URL...]  the reference model's server(s)
  --reference-model M       its served model name (default: the server's only model)
  --policy-api-key-env VAR / --reference-api-key-env VAR
                            environment variable holding the key (default ${API_KEY_ENV})
  --beta B                  DPO beta (default ${SCORE_DEFAULTS.beta})
  --top-k K                 also store the K likeliest tokens per position under each model
                            (0..${MAX_TOP_K}, default ${SCORE_DEFAULTS.topK}: only each token's own log-prob)
  --pairs S                 accepted | pending | all (default) | ID,ID,...
  --format F                fim (default: FIM pairs in FIM format; whole programs and IterPref
                            pairs are always chat) | chat (every pair in chat format)
  --family F                FIM tokens of ${FIM_FAMILIES.join(', ')} (default ${SCORE_DEFAULTS.family})
  --training-sentence       append the published trainer's sentence to the question (as export)
  --no-special-tokens       tokenize the prompt without add_special_tokens (default: with them,
                            as a trainer's tokenizer(prompt) does; the response never has them)
  --concurrency C           requests in flight per endpoint (default ${SCORE_DEFAULTS.concurrency})
  --resume                  continue the newest run with these options even if it finished
                            (scores only the selected pairs it has not scored, e.g. pairs made since)
  --new                     start a new run even if an unfinished one has these options
  --timeout-ms MS           per request (default ${SAMPLING_DEFAULTS.timeoutMs})
  --retries R               retries of a failing request (default ${SAMPLING_DEFAULTS.maxRetries})
  --down-wait-ms MS         how long a server that went away is waited for (default ${SAMPLING_DEFAULTS.downWaitMs})
  --json                    print the summary as JSON
${QUIET_HELP}

A run is one policy, reference, beta and rendering; the selected pairs join it. Running the same
command again continues the newest unfinished run with the same options, scoring only the missing
sides of the selected pairs (after Ctrl-C or kill -9). Exit status: 0 done, 1 stopped or failed
(the message says why), 2 usage / no usable endpoint / tokenizers differ, 130 interrupted.`;

const REWARDS_HELP = `usage: pairforge rewards --db PROJECT.sqlite --pair ID [--run R] [--json]
       pairforge rewards --db PROJECT.sqlite --runs [--json]
       pairforge rewards --db PROJECT.sqlite --margins asc|desc [--run R] [--limit N] [--json]

--pair: one pair's per-token rewards from a scoring run (default: the newest run that scored it):
  {"pair", "run", "beta", "margin", "sides": {"chosen": {"tokens": [{"text", "start", "end",
  "logp_policy", "logp_ref", "reward", "in_loss"}], "reward_sum", "masked_reward_sum"},
  "rejected": {...}}}; start/end are Unicode code points of the rendered response, reward =
  beta * (logp_policy - logp_ref), in_loss whether the token counts in the loss.
--runs: every scoring run (models, beta, rendering, status, pairs scored).
--margins: a run's scored pairs sorted by margin (asc: the pairs the policy gets most wrong
  first), at most --limit (default 20).`;

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The models a server lists on /v1/models (empty when it cannot be asked). */
async function servedModels(url: string, apiKey: string | undefined): Promise<string[] | string> {
  try {
    const res = await fetch(`${rootUrl(url)}/v1/models`, { signal: AbortSignal.timeout(10_000), headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {} });
    if (!res.ok) return `/v1/models answered ${res.status}`;
    const body = (await res.json()) as { data?: { id?: unknown }[] };
    return (body.data ?? []).map((d) => String(d.id));
  } catch (e) {
    const c = (e as { cause?: { code?: string } }).cause;
    return `unreachable (${c?.code ?? (e as Error).message})`;
  }
}

/** --policy/--reference and their model: the given model, else the server's only one. */
async function endpointsOf(role: 'policy' | 'reference', urlArg: string | undefined, modelArg: string | undefined, keyEnv: string | undefined): Promise<PoolEndpoint[]> {
  const urls = list(urlArg);
  if (urls.length === 0) throw new UsageError(`score: --${role} URL is required`);
  for (const u of urls) {
    try {
      rootUrl(u);
    } catch (e) {
      throw new UsageError(`score: --${role}: ${(e as Error).message}`);
    }
  }
  let apiKey: string | undefined;
  if (keyEnv !== undefined) {
    apiKey = process.env[keyEnv];
    if (!apiKey) throw new UsageError(`score: --${role}-api-key-env ${keyEnv}: the environment variable is not set`);
  }
  let model = modelArg;
  if (model === undefined) {
    const served = await servedModels(urls[0], apiKey ?? (process.env[API_KEY_ENV] || undefined));
    if (typeof served === 'string') throw new UsageError(`score: ${urls[0]}: ${served}; pass --${role}-model`);
    if (served.length !== 1) {
      throw new UsageError(`score: ${urls[0]} serves ${served.length === 0 ? 'no model' : `several models (${served.join(', ')})`}: pass --${role}-model`);
    }
    model = served[0];
  }
  return urls.map((url) => ({ url, model: model as string, ...(apiKey ? { apiKey } : {}) }));
}

function selectionOf(v: string | undefined): ScoreSelection {
  if (v === undefined) return 'all';
  if (SELECTION_NAMES.includes(v)) return v as ScoreSelection;
  const ids = list(v).map(Number);
  if (ids.length === 0 || !ids.every((x) => Number.isInteger(x) && x > 0)) throw new UsageError(`score: --pairs must be ${SELECTION_NAMES.join(', ')} or a list of pair ids (got '${v}')`);
  return ids;
}

export function formatScoreSummary(s: ScoreSummary): string {
  const models = `policy ${s.policy[0]?.model ?? '?'}, reference ${s.reference[0]?.model ?? '?'}`;
  const lines = [
    `score run ${s.runId} (${models}, beta ${s.beta}, ${s.format}/${s.family}): ${s.status}; ${s.scoredPairs}/${s.pairs} pairs scored ` +
      `(${s.sides} sides, ${s.produced} new), ${s.skippedSides} sides skipped, ${s.requests} requests, ${s.retries} retries, ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (s.scoredPairs > 0) {
    lines.push(`  the policy prefers the chosen side on ${s.prefersChosen} of ${s.scoredPairs} pairs; mean margin ${s.meanMargin?.toFixed(4)}`);
  }
  return lines.join('\n');
}

async function runScore(argv: string[]): Promise<number> {
  const a = parseArgs('score', argv, {
    values: ['db', 'policy', 'policy-model', 'reference', 'reference-model', 'policy-api-key-env', 'reference-api-key-env', 'beta', 'top-k', 'pairs', 'format', 'family', 'concurrency', 'timeout-ms', 'retries', 'down-wait-ms'],
    flags: ['json', 'resume', 'new', 'training-sentence', 'no-special-tokens', ...PROGRESS_FLAGS],
  });
  if (a.flags.has('help')) return showHelp(SCORE_HELP);
  if (a.positionals.length > 0) throw new UsageError(`score: unexpected argument ${a.positionals[0]}`);
  const db = dbOf('score', a, true);
  if (a.flags.has('resume') && a.flags.has('new')) throw new UsageError('score: --resume and --new contradict each other');
  const beta = settingOption('score', a, 'beta', 'scoring.beta');
  const topK = settingOption('score', a, 'top-k', 'scoring.topK');
  const format = choiceOption('score', a, 'format', ['fim', 'chat'] as const);
  const family = choiceOption('score', a, 'family', FIM_FAMILIES);
  const concurrency = settingOption('score', a, 'concurrency', 'scoring.concurrency');
  const selection = selectionOf(a.values.get('pairs'));
  const policy = await endpointsOf('policy', a.values.get('policy'), a.values.get('policy-model'), a.values.get('policy-api-key-env'));
  const reference = await endpointsOf('reference', a.values.get('reference'), a.values.get('reference-model'), a.values.get('reference-api-key-env'));
  const spec: ScoreSpec = {
    policy,
    reference,
    ...(beta !== undefined ? { beta } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(family !== undefined ? { family: family as FimFamily } : {}),
    ...(a.flags.has('training-sentence') ? { trainingSentence: true } : {}),
    ...(a.flags.has('no-special-tokens') ? { addSpecialTokens: false } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  const opt = <K extends 'timeoutMs' | 'maxRetries' | 'downWaitMs'>(k: K, name: string, min: number) => {
    const v = intOption('score', a, name, min);
    if (v !== undefined) spec[k] = v;
  };
  opt('timeoutMs', 'timeout-ms', 1);
  opt('maxRetries', 'retries', 0);
  opt('downWaitMs', 'down-wait-ms', 0);

  const signal = interruptSignal();
  const progress = progressOf(a);
  const p = openProject(db);
  try {
    let summary: ScoreSummary;
    try {
      summary = await scorePairs(p, selection, spec, {
        signal,
        reuse: a.flags.has('new') ? 'none' : a.flags.has('resume') ? 'any' : 'unfinished',
        log: (m) => progress.log(`score: ${m}`),
        onProgress: (pr) => {
          progress.stage(`score run ${pr.runId}`, 'sides');
          progress.update({ done: pr.done, total: pr.total, errors: pr.failed, note: `${pr.inFlight} in flight${pr.skipped ? ` · ${pr.skipped} skipped` : ''}` });
        },
      });
    } catch (e) {
      progress.end();
      if (e instanceof UsageError) throw e;
      err(`score: ${(e as Error).message}`);
      return EXIT_USAGE;
    }
    progress.end();
    if (a.flags.has('json')) out(JSON.stringify(summary));
    else out(formatScoreSummary(summary));
    if (summary.message) err(`score: ${summary.message}`);
    if (summary.status === 'done') return EXIT_OK;
    return signal.aborted ? EXIT_INTERRUPTED : EXIT_BAD_INPUT;
  } finally {
    p.close();
  }
}

const fmt = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));

/** A pair's rewards for a terminal: per side, each token with its reward; tokens outside the loss in brackets. */
export function formatPairRewards(r: PairRewards): string {
  const lines = [`pair ${r.pair}, run ${r.run}, beta ${r.beta}: margin ${fmt(r.margin, 4)}`];
  for (const side of ['chosen', 'rejected'] as const) {
    const s = r.sides[side];
    if (s.skipped) {
      lines.push(`  ${side}: not scored: ${s.skipped}`);
      continue;
    }
    lines.push(`  ${side} (${s.format}): reward ${fmt(s.reward_sum, 4)} over ${s.tokens.length} tokens, ${fmt(s.masked_reward_sum, 4)} over the ${s.tokens.filter((t) => t.in_loss).length} in the loss`);
    const cells = s.tokens.map((t) => {
      const cell = `${JSON.stringify(t.text)}${t.reward >= 0 ? '+' : ''}${t.reward.toFixed(2)}`;
      return t.in_loss ? cell : `[${cell}]`;
    });
    for (let i = 0; i < cells.length; i += 8) lines.push(`    ${cells.slice(i, i + 8).join(' ')}`);
  }
  return lines.join('\n');
}

async function runRewards(argv: string[]): Promise<number> {
  const a = parseArgs('rewards', argv, { values: ['db', 'pair', 'run', 'margins', 'limit'], flags: ['json', 'runs'] });
  if (a.flags.has('help')) return showHelp(REWARDS_HELP);
  if (a.positionals.length > 0) throw new UsageError(`rewards: unexpected argument ${a.positionals[0]}`);
  const db = dbOf('rewards', a, true);
  const pair = intOption('rewards', a, 'pair', 1);
  const run = intOption('rewards', a, 'run', 1);
  const margins = choiceOption('rewards', a, 'margins', ['asc', 'desc'] as const);
  const limit = intOption('rewards', a, 'limit', 1);
  const modes = [pair !== undefined, a.flags.has('runs'), margins !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('rewards: give exactly one of --pair ID, --runs, --margins asc|desc (see pairforge rewards --help)');
  const json = a.flags.has('json');
  const p = openProject(db, { readonly: true });
  try {
    if (pair !== undefined) {
      let r: PairRewards;
      try {
        r = pairRewards(p, pair, run);
      } catch (e) {
        err(`rewards: ${(e as Error).message}`);
        return EXIT_BAD_INPUT;
      }
      out(json ? JSON.stringify(r) : formatPairRewards(r));
      return EXIT_OK;
    }
    const runs = listRuns(p);
    if (a.flags.has('runs')) {
      if (json) out(JSON.stringify(runs));
      else if (runs.length === 0) out('no scoring runs (pairforge score)');
      else
        for (const r of runs) {
          out(
            `run ${r.id}: ${r.status}, policy ${r.policyModel}, reference ${r.referenceModel}, beta ${r.beta}, ${r.format}/${r.family}${r.topK ? `, top-${r.topK}` : ''}: ` +
              `${r.scoredPairs}/${r.pairs} pairs scored, ${r.skippedSides} sides skipped (${r.createdAt})`,
          );
        }
      return EXIT_OK;
    }
    const runId = run ?? runs[0]?.id;
    if (runId === undefined) {
      err('rewards: no scoring runs in the project (pairforge score)');
      return EXIT_BAD_INPUT;
    }
    if (!runs.some((r) => r.id === runId)) {
      err(`rewards: no scoring run ${runId} (the project has: ${runs.map((r) => r.id).join(', ')})`);
      return EXIT_BAD_INPUT;
    }
    const rows = pairsByMargin(p, runId, { order: margins, limit: limit ?? 20 });
    if (json) out(JSON.stringify({ run: runId, order: margins, pairs: rows }));
    else for (const r of rows) out(`pair ${r.pairId}: margin ${r.margin.toFixed(4)} (chosen ${r.chosenReward.toFixed(4)}, rejected ${r.rejectedReward.toFixed(4)})${r.prefersChosen ? '' : '  <- policy prefers rejected'}`);
    return EXIT_OK;
  } finally {
    p.close();
  }
}

export const scoreCommand: Command = {
  name: 'score',
  summary: 'score --db P --policy URL --reference URL   per-token DPO rewards of the pairs',
  help: SCORE_HELP,
  run: runScore,
};

export const rewardsCommand: Command = {
  name: 'rewards',
  summary: 'rewards --db P --pair ID [--json]       one pair\'s per-token rewards (or --runs, --margins)',
  help: REWARDS_HELP,
  run: runRewards,
};

// `pairforge check-refs` and `pairforge exec`: run stored candidates in the sandbox and store
// their verdicts. Both are runPending over a different selection; check-refs
// also lists the references that fail their own tests.
import os from 'node:os';
import { PROGRESS_FLAGS, QUIET_HELP, UsageError, dbOf, err, intOption, interruptSignal, out, parseArgs, progressOf, settingOption, showHelp, type Args, type Command } from '../cli/kit';
import { openProject } from '../store/db';
import { ExecEngine } from './engine';
import { exitStatusOf, runPending, type RunSummary } from './runPending';
import { datasetIdOf } from '../import/queries';
import { flaggedReferences, REFERENCE_SOURCES, type CandidateSource, type FlaggedReference, type Selection } from './store';
import { DEFAULT_EXEC_LIMITS, type ExecLimits } from './types';
import { CANDIDATE_KINDS, COMPARATORS, isIsolated, REFERENCE_KINDS, VERDICTS, type CandidateKind, type Comparator } from '../protocol';

const COMMON_OPTIONS = `  --comparator C        strict (default: line by line, trailing whitespace ignored, numbers
                        within a relative 1e-6) | apps (the APPS harness's lenient cascade);
                        recorded with every verdict; each comparator has its own verdicts
  --all-results         run every test of a candidate (default: stop at its first failure)
  --timeout-ms N        time per test: wall clock, not counting time spent waiting for a CPU
                        (default ${DEFAULT_EXEC_LIMITS.testTimeoutMs})
  --memory-mb N         address space per test (default ${DEFAULT_EXEC_LIMITS.memoryBytes / 1024 ** 2})
  --output-kb N         stdout / stderr kept per test; more is output_limit (default ${DEFAULT_EXEC_LIMITS.outputBytes / 1024})
  --workers N           warm sandboxed workers (default: one per core)
  --confirm N           re-run every failing candidate N more times; a candidate whose verdicts
                        disagree is marked flaky (pairing skips it)
  --limit N             run at most N candidates now; the rest stay pending
  --dataset NAME        only candidates of this dataset's problems
  --allow-unsandboxed   where bubblewrap cannot be used (missing, no user namespaces), run WITHOUT
                        isolation instead of refusing: the programs can read and change your
                        files and use the network. Explicit opt-in, warned loudly; bubblewrap is
                        still used wherever it works
  --json                print the summary as JSON
${QUIET_HELP}`;

const SUMMARY_HELP = `Resumable: verdicts are stored in transactions as they come, keyed by candidate, comparator and
attempt, so an interrupted or killed run is finished by running the same command again (stored
verdicts are skipped, nothing is stored twice). Ctrl-C stops after the running candidates.
Progress goes to stderr. The summary counts the stored verdicts of every candidate selected:
{"total", "pass", "wrong_answer", "runtime_error", "timeout", "memory_limit", "output_limit",
"compile_error", "ran", "skipped", "no_tests", "pending", "confirm_runs", "flaky", "errors", ...}.
Exit status: 0 ok, 1 engine errors (or flagged references for check-refs), 2 usage or no
sandbox, 130 interrupted.`;

const CHECK_REFS_HELP = `usage: pairforge check-refs --db PROJECT.sqlite [options]

Runs every reference solution and every history version against its own problem's tests in the
sandbox and stores the verdicts. References that fail their own tests (a failing solution, or a
failing final history version: earlier versions are expected to fail) are flagged and listed in
the output ("flagged" in the JSON), never hidden.

${COMMON_OPTIONS}

${SUMMARY_HELP}`;

const EXEC_HELP = `usage: pairforge exec --db PROJECT.sqlite [options]

Runs every pending candidate in the sandbox and stores its verdict: samples (their target's
pre + middle + suf, against the target's problem), and reference solutions and history versions
not run yet.

  --kinds K,...         which candidates: ${CANDIDATE_KINDS.join(', ')} (default: all)
  --job ID              samples of this sample job only
${COMMON_OPTIONS}

${SUMMARY_HELP}`;

/** Flagged references listed in the human output; --json lists all. */
const MAX_FLAGGED_LINES = 50;

const VALUE_OPTIONS = ['db', 'comparator', 'timeout-ms', 'memory-mb', 'output-kb', 'workers', 'confirm', 'limit', 'dataset'];
const FLAGS = ['all-results', 'allow-unsandboxed', 'json', ...PROGRESS_FLAGS];

interface Setup {
  db: string;
  comparator: Comparator;
  limits: Partial<ExecLimits>;
  workers: number;
  confirm: number;
  limit?: number;
  dataset?: string;
  allResults: boolean;
  allowUnsandboxed: boolean;
  json: boolean;
}

function setupOf(command: string, a: Args): Setup {
  const db = dbOf(command, a, true);
  if (a.positionals.length > 0) throw new UsageError(`${command}: unexpected argument ${a.positionals[0]}`);
  const comparator = a.values.get('comparator') ?? 'strict';
  if (!(COMPARATORS as readonly string[]).includes(comparator)) {
    throw new UsageError(`${command}: --comparator must be one of ${COMPARATORS.join(', ')} (got '${comparator}')`);
  }
  const limits: Partial<ExecLimits> = {};
  const timeout = settingOption(command, a, 'timeout-ms', 'exec.testTimeoutMs');
  if (timeout !== undefined) {
    limits.testTimeoutMs = timeout;
    // The per-candidate clock keeps its default ratio to the per-test one.
    limits.candidateTimeoutMs = Math.max(DEFAULT_EXEC_LIMITS.candidateTimeoutMs, timeout);
  }
  const memory = settingOption(command, a, 'memory-mb', 'exec.memoryMB');
  if (memory !== undefined) limits.memoryBytes = memory * 1024 ** 2;
  const output = settingOption(command, a, 'output-kb', 'exec.outputKB');
  if (output !== undefined) limits.outputBytes = output * 1024;
  const limit = intOption(command, a, 'limit', 0);
  const dataset = a.values.get('dataset');
  return {
    db,
    comparator: comparator as Comparator,
    limits,
    workers: intOption(command, a, 'workers', 1) ?? Math.max(1, os.availableParallelism()),
    confirm: intOption(command, a, 'confirm', 0) ?? 0,
    ...(limit !== undefined ? { limit } : {}),
    ...(dataset !== undefined ? { dataset } : {}),
    allResults: a.flags.has('all-results'),
    allowUnsandboxed: a.flags.has('allow-unsandboxed'),
    json: a.flags.has('json'),
  };
}

function kindsOf(a: Args): CandidateKind[] {
  const v = a.values.get('kinds');
  if (v === undefined) return [...CANDIDATE_KINDS];
  const kinds = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (kinds.length === 0) throw new UsageError('exec: --kinds needs at least one of solution, version, sample');
  for (const k of kinds) {
    if (!(CANDIDATE_KINDS as readonly string[]).includes(k)) throw new UsageError(`exec: unknown kind '${k}' in --kinds (one of ${CANDIDATE_KINDS.join(', ')})`);
  }
  // Keep the canonical order whatever order they were given in.
  return CANDIDATE_KINDS.filter((k) => kinds.includes(k));
}

function verdictLine(s: RunSummary): string {
  return VERDICTS.filter((v) => s[v] > 0)
    .map((v) => `${s[v]} ${v}`)
    .join(', ');
}

function describeFlagged(f: FlaggedReference): string {
  const where = f.kind === 'solution' ? `solution ${f.solution}` : `history ${f.history} v${f.version} (final)`;
  const why = f.failure ? `test ${f.failure.test + 1}/${f.tests_total}${f.failure.message ? `: ${f.failure.message.split('\n')[0]}` : ''}` : '';
  return `  ${f.dataset}/${f.problem} ${where}: ${f.verdict}${f.flaky ? ' (flaky)' : ''}${why ? ` — ${why}` : ''}`;
}

async function runCommand(command: 'check-refs' | 'exec', argv: string[], sources: readonly CandidateSource[]): Promise<number> {
  const a = parseArgs(command, argv, { values: command === 'exec' ? [...VALUE_OPTIONS, 'kinds', 'job'] : VALUE_OPTIONS, flags: FLAGS });
  if (a.flags.has('help')) return showHelp(command === 'exec' ? EXEC_HELP : CHECK_REFS_HELP);
  const o = setupOf(command, a);
  const kinds = command === 'exec' ? kindsOf(a) : [...REFERENCE_KINDS];
  const job = command === 'exec' ? intOption(command, a, 'job', 1) : undefined;
  const p = openProject(o.db);
  try {
    const selection: Selection = { sources: sources.filter((s) => kinds.includes(s.kind)), ...(job !== undefined ? { jobId: job } : {}) };
    if (o.dataset !== undefined) {
      try {
        selection.datasetId = datasetIdOf(p, o.dataset);
      } catch (e) {
        throw new UsageError(`${command}: ${(e as Error).message}`);
      }
    }
    if (o.allowUnsandboxed) err(`pairforge ${command}: --allow-unsandboxed: if bubblewrap cannot be used here, candidates run WITHOUT isolation`);
    // SandboxUnavailableError (no bwrap, no namespaces) propagates: the CLI prints its message,
    // which says how to fix it, and exits 2. Nothing runs unisolated without the opt-in.
    const progress = progressOf(a);
    const engine = await ExecEngine.create({ workers: o.workers, limits: o.limits, allowUnsandboxed: o.allowUnsandboxed, log: (line) => progress.log(line) });
    const counts = selection.sources.map((s) => `${s.count(p, selection)} ${s.kind}s`).join(', ');
    err(
      `${command}: ${counts}; ${o.workers} workers, ${isIsolated(engine.sandbox.isolation) ? `isolated (${engine.sandbox.isolation})` : 'NOT ISOLATED'}, ` +
        `comparator ${o.comparator}, ${engine.sandbox.limits.testTimeoutMs} ms per test`,
    );
    const signal = interruptSignal();
    progress.stage(command, 'candidates');
    let summary: RunSummary;
    try {
      summary = await runPending(p, engine, {
        selection,
        comparator: o.comparator,
        allResults: o.allResults,
        confirm: o.confirm,
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        // One candidate in flight per worker plus one queued, so a worker never waits for us.
        concurrency: o.workers * 2,
        signal,
        onProgress: (e) => progress.update({ done: e.done, total: e.total, errors: e.errors, note: `${e.ran.toLocaleString('en-US')} run now` }),
      });
    } finally {
      progress.end();
      await engine.close();
    }
    const flagged = command === 'check-refs' ? flaggedReferences(p, selection, o.comparator) : undefined;
    if (o.json) out(JSON.stringify(flagged ? { ...summary, flagged } : summary));
    else {
      out(
        `${summary.total} candidates with verdicts (${summary.ran} run now, ${summary.skipped} already stored): ${verdictLine(summary) || 'none'}` +
          `${summary.flaky ? `; ${summary.flaky} flaky` : ''}${summary.no_tests ? `; ${summary.no_tests} without tests` : ''}` +
          `${summary.pending ? `; ${summary.pending} pending` : ''}`,
      );
      if (flagged) {
        out(
          flagged.length === 0
            ? 'every reference passes its own tests'
            : flagged.length === 1
              ? '1 reference fails its own tests:'
              : `${flagged.length} references fail their own tests:`,
        );
        for (const f of flagged.slice(0, MAX_FLAGGED_LINES)) out(describeFlagged(f));
        if (flagged.length > MAX_FLAGGED_LINES) out(`  … and ${flagged.length - MAX_FLAGGED_LINES} more (all of them with --json)`);
      }
    }
    for (const m of summary.error_messages) err(`pairforge ${command}: engine error: ${m}`);
    if (summary.interrupted) err(`interrupted: stored verdicts are kept; run the same command again to finish (${summary.pending} pending)`);
    return exitStatusOf(summary, (flagged?.length ?? 0) > 0);
  } finally {
    p.close();
  }
}

export const checkRefsCommand: Command = {
  name: 'check-refs',
  summary: 'check-refs --db PROJECT.sqlite        run reference solutions and history versions against their tests',
  help: CHECK_REFS_HELP,
  run: (argv) => runCommand('check-refs', argv, REFERENCE_SOURCES),
};

/** `pairforge exec` over the references and `samples`: the sampling stage comes after this one, so
 * the command table (server/cli/commands.ts) hands its source in. */
export function execCommand(samples: CandidateSource): Command {
  return {
    name: 'exec',
    summary: 'exec --db PROJECT.sqlite              run every pending candidate (samples, references) in the sandbox',
    help: EXEC_HELP,
    run: (argv) => runCommand('exec', argv, [...REFERENCE_SOURCES, samples]),
  };
}

// `pairforge sample`: samples FIM middles for the project's targets from vLLM-compatible endpoints.
import { EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROGRESS_FLAGS, QUIET_HELP, UsageError, dbOf, err, interruptSignal, out, parseArgs, progressOf, settingOption, showHelp, type Command } from '../cli/kit';
import { openProject } from '../store/db';
import { API_KEY_ENV, type PoolEndpoint } from './endpoints';
import { DEFAULTS, runSampleJob, type SampleSpec } from './job';
import { SAMPLING_FAMILIES, type CustomTokens, type NumberSetting, type SamplingFamily } from '../protocol';

const HELP = `usage: pairforge sample --db PROJECT.sqlite --endpoint URL --model NAME --family F [options]
       pairforge sample --db PROJECT.sqlite --resume JOB [--endpoint URL --model NAME]

Samples every selected target from one or more vLLM-compatible servers (raw FIM prompts to
/v1/completions) and stores each sample with its post-processed middle. One request per
(target, sample index), each with its own seed, so an interrupted job resumes exactly where it
stopped: run the same command again (or --resume JOB) and only the missing samples are drawn.

  --endpoint URL[,URL...]   server root or .../v1 (repeat --endpoint/--model pairs, or give
                            comma lists; one --model applies to every endpoint)
  --model NAME[,NAME...]    the served model name (see the server's /v1/models)
  --api-key-env VAR[,VAR...]  environment variables holding each endpoint's API key
                            (default ${API_KEY_ENV} for all)
  --family F                ${SAMPLING_FAMILIES.join(' | ')}
  --custom-tokens JSON      custom family: {"prefix","suffix","middle","stop":[...],"stopTokenIds":[...]}
  --n N                     samples per target (default ${DEFAULTS.n})
  --temperature T           default ${DEFAULTS.temperature}
  --top-p P                 default ${DEFAULTS.topP}
  --max-tokens M            default ${DEFAULTS.maxTokens}
  --seed S                  base of the per-sample seeds (default: the job id)
  --concurrency C           requests in flight per endpoint (default ${DEFAULTS.concurrency})
  --preset KEY              targets cut under this preset key (default structurecoder)
  --dataset NAME            only this dataset's targets
  --limit N                 only the first N targets (by id)
  --resume JOB              continue job JOB (its targets, family and values)
  --new                     start a new job even if an unfinished one has the same options
  --timeout-ms MS           per request (default ${DEFAULTS.timeoutMs})
  --retries R               retries of a failing request (default ${DEFAULTS.maxRetries})
  --down-wait-ms MS         how long a server that went away is waited for (default ${DEFAULTS.downWaitMs})
  --json                    print the summary as JSON
${QUIET_HELP}

API keys come from the environment (${API_KEY_ENV}, or --api-key-env per endpoint), never
from the command line; they are not stored or logged. Exit status: 0 done, 1 stopped or failed (the message says why and
how to resume), 2 usage, 130 interrupted.`;

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
}

function number(name: string, v: string | undefined, int: boolean): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (int && !Number.isInteger(x))) throw new UsageError(`sample: --${name} must be ${int ? 'an integer' : 'a number'} (got '${v}')`);
  return x;
}

/** --endpoint/--model pairs: equal-length lists, or one model for every endpoint; keys from the
 * environment variables named by --api-key-env (one for all, or one per endpoint). */
export function endpointsOf(
  endpointArg: string | undefined,
  modelArg: string | undefined,
  keyEnvArg?: string,
  env: NodeJS.ProcessEnv = process.env,
): PoolEndpoint[] {
  const urls = list(endpointArg);
  const models = list(modelArg);
  if (urls.length === 0 && models.length === 0) return [];
  if (urls.length === 0) throw new UsageError('sample: --endpoint URL is required');
  if (models.length === 0) throw new UsageError('sample: --model NAME is required (the name the server serves, see its /v1/models)');
  if (models.length !== 1 && models.length !== urls.length) throw new UsageError(`sample: ${urls.length} endpoints but ${models.length} models (give one model, or one per endpoint)`);
  const keyVars = list(keyEnvArg);
  if (keyVars.length > 1 && keyVars.length !== urls.length) throw new UsageError(`sample: ${urls.length} endpoints but ${keyVars.length} --api-key-env names (give one, or one per endpoint)`);
  return urls.map((url, i) => {
    const keyVar = keyVars.length === 0 ? undefined : keyVars.length === 1 ? keyVars[0] : keyVars[i];
    const apiKey = keyVar === undefined ? undefined : env[keyVar];
    if (keyVar !== undefined && !apiKey) throw new UsageError(`sample: --api-key-env ${keyVar}: the environment variable is not set`);
    return { url, model: models.length === 1 ? models[0] : models[i], ...(apiKey ? { apiKey } : {}) };
  });
}

function customOf(v: string | undefined): CustomTokens | undefined {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as CustomTokens;
  } catch (e) {
    throw new UsageError(`sample: --custom-tokens is not JSON: ${(e as Error).message}`);
  }
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('sample', argv, {
    values: ['db', 'endpoint', 'model', 'api-key-env', 'family', 'custom-tokens', 'n', 'temperature', 'top-p', 'max-tokens', 'seed', 'concurrency', 'preset', 'dataset', 'limit', 'resume', 'timeout-ms', 'retries', 'down-wait-ms'],
    flags: ['json', 'new', ...PROGRESS_FLAGS],
  });
  if (a.flags.has('help')) return showHelp(HELP);
  if (a.positionals.length > 0) throw new UsageError(`sample: unexpected argument ${a.positionals[0]}`);
  const db = dbOf('sample', a, true);
  const v = (k: string) => a.values.get(k);
  const endpoints = endpointsOf(v('endpoint'), v('model'), v('api-key-env'));
  const resume = number('resume', v('resume'), true);
  const family = v('family');
  if (resume === undefined) {
    if (endpoints.length === 0) throw new UsageError('sample: --endpoint URL and --model NAME are required');
    if (family === undefined) throw new UsageError(`sample: --family is required (${SAMPLING_FAMILIES.join(', ')})`);
  }
  if (family !== undefined && !(SAMPLING_FAMILIES as readonly string[]).includes(family)) throw new UsageError(`sample: --family must be one of ${SAMPLING_FAMILIES.join(', ')} (got '${family}')`);
  const custom = customOf(v('custom-tokens'));
  if (family === 'custom' && !custom) throw new UsageError('sample: --family custom needs --custom-tokens JSON');
  const limit = number('limit', v('limit'), true);
  const spec: SampleSpec = {
    family: (family ?? 'qwen2.5-coder') as SamplingFamily,
    ...(custom ? { custom } : {}),
    endpoints,
    selection: { preset: v('preset') ?? 'structurecoder', ...(v('dataset') !== undefined ? { dataset: v('dataset') } : {}), ...(limit !== undefined ? { limit } : {}) },
  };
  const opt = <K extends keyof SampleSpec>(k: K, x: SampleSpec[K] | undefined) => {
    if (x !== undefined) spec[k] = x;
  };
  const bounded = (setting: NumberSetting, flag: string) => settingOption('sample', a, flag, setting);
  opt('n', bounded('sampling.n', 'n'));
  opt('temperature', bounded('sampling.temperature', 'temperature'));
  opt('topP', bounded('sampling.topP', 'top-p'));
  opt('maxTokens', bounded('sampling.maxTokens', 'max-tokens'));
  opt('seed', number('seed', v('seed'), true));
  opt('concurrency', bounded('sampling.concurrency', 'concurrency'));
  opt('timeoutMs', number('timeout-ms', v('timeout-ms'), true));
  opt('maxRetries', number('retries', v('retries'), true));
  opt('downWaitMs', number('down-wait-ms', v('down-wait-ms'), true));

  const signal = interruptSignal();
  const progress = progressOf(a);
  const p = openProject(db);
  try {
    let summary;
    try {
      summary = await runSampleJob(p, spec, {
        signal,
        ...(resume !== undefined ? { resume } : {}),
        reuse: a.flags.has('new') ? 'none' : 'unfinished',
        log: (m) => progress.log(`sample: ${m}`),
        onProgress: (pr) => {
          progress.stage(`sample job ${pr.jobId}`, 'samples');
          progress.update({
            done: pr.done,
            total: pr.total,
            errors: pr.failed,
            note: `${pr.inFlight} in flight${pr.skippedTargets ? ` · ${pr.skippedTargets} targets skipped` : ''}`,
          });
        },
      });
    } catch (e) {
      progress.end();
      if (e instanceof UsageError) throw e;
      err(`sample: ${(e as Error).message}`);
      return EXIT_USAGE;
    }
    progress.end();
    if (a.flags.has('json')) out(JSON.stringify(summary));
    else {
      out(
        `sample job ${summary.jobId} (${summary.family}, n=${summary.n}): ${summary.status}; ${summary.samples}/${summary.expected} samples ` +
          `(${summary.produced} new), ${summary.skippedTargets} of ${summary.targets} targets skipped, ${summary.requests} requests, ${summary.retries} retries, ${(summary.elapsedMs / 1000).toFixed(1)} s`,
      );
    }
    if (summary.message) err(`sample: ${summary.message}`);
    if (summary.status === 'done') return EXIT_OK;
    return signal.aborted ? EXIT_INTERRUPTED : EXIT_BAD_INPUT;
  } finally {
    p.close();
  }
}

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'sample --db P --endpoint URL --model M --family F   sample FIM middles from vLLM endpoints',
  help: HELP,
  run,
};

// `pairforge serve-local`: the local vLLM-compatible stand-in server, in the foreground until Ctrl-C.
import { EXIT_OK, UsageError, dbOf, err, out, parseArgs, showHelp, type Command } from '../cli/kit';
import { parseFaultSpec, type FaultPlan } from './faults';
import { SMOOTHINGS, type Smoothing } from './ngram';
import { DEFAULT_MAX_MODEL_LEN, DEFAULT_MODEL_NAME, POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, startLocalVllm } from './server';
import { TOKENIZER_KINDS, type TokenizerKind } from './tokenizer';

const HELP = `usage: pairforge serve-local [--db PROJECT.sqlite] [--port 8000] [--host 127.0.0.1] [--model NAME]
                             [--latency-ms L] [--jitter-ms J] [--fault SPEC] [--api-key KEY]
                             [--max-model-len N] [--ngram-order 3] [--smoothing witten-bell|add-k]
                             [--add-k 0.1] [--ngram-fraction 1] [--max-train-tokens N] [--seed S]
                             [--file-sep-rate F] [--tokenizer pieces|chars] [--log-requests] [--json]

A LOCAL STAND-IN for a vLLM OpenAI-compatible server, for tests and the offline demo. It is not a
language model: for a FIM prompt of a target in the project it returns the reference middle, a
reformatted copy or a mutant (flipped comparison, off-by-one bound, swapped branches, dropped
line); log-probabilities come from a token n-gram model learned from the project's solutions.
It speaks vLLM's API: GET /health, GET /v1/models, POST /v1/completions, POST /tokenize,
POST /detokenize, with vLLM's error bodies and status codes.

Besides the default model it serves two models for scoring, ${POLICY_MODEL_NAME} and
${REFERENCE_MODEL_NAME}: 4-gram and bigram models of the project's solutions (same tokenizer),
so per-token DPO rewards between them are real, varying numbers (see pairforge score --help).

  --db P               project to learn from (opened read-only); without it every prompt is unknown
  --port N             port to listen on (default 8000; 0 = any free port)
  --host H             address to bind (default 127.0.0.1)
  --model NAME         served model name (default ${DEFAULT_MODEL_NAME})
  --max-model-len N    context length in tokens (default ${DEFAULT_MAX_MODEL_LEN})
  --api-key KEY        require "Authorization: Bearer KEY" on /v1 routes (or env PAIRFORGE_LOCAL_API_KEY)
  --latency-ms L       delay every completion by L ms (a timer; concurrency is unaffected)
  --jitter-ms J        plus a uniform extra delay in [0, J) ms
  --fault SPEC         comma-separated faults for /v1/completions, e.g.
                       500=0.1,reset=0.05,malformed=0.02,restart-every=100,restart-down-ms=500,seed=7
                       pattern=ok/500/reset (cycled instead of fractions), unhealthy (/health 503)
  --ngram-order N      n of the n-gram model (default 3)
  --smoothing S        witten-bell (default) | add-k
  --add-k K            k for add-k smoothing (default 0.1)
  --ngram-fraction F   learn from this share of the solutions (0 < F <= 1; a stable subset by id)
  --max-train-tokens N stop learning after N tokens (default 3000000; bounds start-up time)
  --file-sep-rate F    qwen2.5-coder/starcoder2: share of samples where the middle is followed by
                       <|file_sep|> (not an EOS) and a next file, as repo-level models do (default 0)
  --tokenizer T        pieces (default) | chars: one token per character, a different tokenizer
                       over the same ids (for testing that scoring refuses mismatched tokenizers)
  --seed S             seed for requests that send none (default: random, as in vLLM)
  --log-requests       one line per request on stderr
  --json               print {"url", "baseURL", "model", "models", "port", ...} on stdout once listening

Stops on Ctrl-C or SIGTERM.`;

function num(name: string, v: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || !check(x)) throw new UsageError(`serve-local: --${name} must be ${what} (got '${v}')`);
  return x;
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('serve-local', argv, {
    values: ['db', 'port', 'host', 'model', 'max-model-len', 'api-key', 'latency-ms', 'jitter-ms', 'fault', 'ngram-order', 'smoothing', 'add-k', 'ngram-fraction', 'max-train-tokens', 'file-sep-rate', 'seed', 'tokenizer'],
    flags: ['log-requests', 'json'],
  });
  if (a.flags.has('help')) return showHelp(HELP);
  if (a.positionals.length > 0) throw new UsageError(`serve-local: unexpected argument ${a.positionals[0]}`);
  const db = a.values.has('db') ? dbOf('serve-local', a, true) : undefined;
  const int = (x: number) => Number.isInteger(x);
  const port = num('port', a.values.get('port'), (x) => int(x) && x >= 0 && x < 65536, 'a port number') ?? 8000;
  const maxModelLen = num('max-model-len', a.values.get('max-model-len'), (x) => int(x) && x > 0, 'a positive integer');
  const latencyMs = num('latency-ms', a.values.get('latency-ms'), (x) => x >= 0, 'a number >= 0');
  const jitterMs = num('jitter-ms', a.values.get('jitter-ms'), (x) => x >= 0, 'a number >= 0');
  const order = num('ngram-order', a.values.get('ngram-order'), (x) => int(x) && x >= 1 && x <= 8, 'an integer in 1..8');
  const k = num('add-k', a.values.get('add-k'), (x) => x > 0, 'a number > 0');
  const fraction = num('ngram-fraction', a.values.get('ngram-fraction'), (x) => x > 0 && x <= 1, 'in (0, 1]');
  const seed = num('seed', a.values.get('seed'), int, 'an integer');
  const fileSep = num('file-sep-rate', a.values.get('file-sep-rate'), (x) => x >= 0 && x <= 1, 'a fraction in [0, 1]');
  const maxTrainTokens = num('max-train-tokens', a.values.get('max-train-tokens'), (x) => int(x) && x > 0, 'a positive integer');
  const smoothing = a.values.get('smoothing');
  if (smoothing !== undefined && !(SMOOTHINGS as readonly string[]).includes(smoothing)) {
    throw new UsageError(`serve-local: --smoothing must be one of ${SMOOTHINGS.join(', ')} (got '${smoothing}')`);
  }
  const tokenizer = a.values.get('tokenizer');
  if (tokenizer !== undefined && !(TOKENIZER_KINDS as readonly string[]).includes(tokenizer)) {
    throw new UsageError(`serve-local: --tokenizer must be one of ${TOKENIZER_KINDS.join(', ')} (got '${tokenizer}')`);
  }
  let faults: FaultPlan = {};
  const spec = a.values.get('fault');
  if (spec !== undefined) {
    try {
      faults = parseFaultSpec(spec);
    } catch (e) {
      throw new UsageError(`serve-local: ${(e as Error).message}`);
    }
  }
  if (latencyMs !== undefined) faults.latencyMs = latencyMs;
  if (jitterMs !== undefined) faults.jitterMs = jitterMs;
  const apiKey = a.values.get('api-key') ?? process.env.PAIRFORGE_LOCAL_API_KEY;

  const started = Date.now();
  const server = await startLocalVllm({
    port,
    host: a.values.get('host') ?? '127.0.0.1',
    ...(db !== undefined ? { db } : {}),
    ...(a.values.has('model') ? { model: a.values.get('model') as string } : {}),
    ...(maxModelLen !== undefined ? { maxModelLen } : {}),
    ...(apiKey ? { apiKey } : {}),
    faults,
    ...(seed !== undefined ? { seed } : {}),
    ngram: {
      ...(order !== undefined ? { order } : {}),
      ...(smoothing !== undefined ? { smoothing: smoothing as Smoothing } : {}),
      ...(k !== undefined ? { k } : {}),
    },
    ...(fraction !== undefined ? { ngramFraction: fraction } : {}),
    ...(maxTrainTokens !== undefined ? { maxTrainTokens } : {}),
    ...(fileSep !== undefined ? { mix: { fileSep } } : {}),
    ...(tokenizer !== undefined ? { tokenizer: tokenizer as TokenizerKind } : {}),
    ...(a.flags.has('log-requests') ? { log: (line: string) => err(line) } : {}),
  });
  const info = { url: server.url, baseURL: server.baseURL, model: server.model, models: server.models, port: server.port, maxModelLen: server.maxModelLen, targets: server.targets };
  err(
    `serve-local: LOCAL STAND-IN vLLM server (not a real model) serving '${server.model}' (and for scoring ${server.models.slice(1).map((m) => `'${m}'`).join(', ')}) at ${server.url} ` +
      `(openai base URL ${server.baseURL}); ${server.targets} targets known; ready in ${Date.now() - started} ms. Ctrl-C stops it.`,
  );
  if (a.flags.has('json')) out(JSON.stringify(info));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  const s = server.stats();
  err(`serve-local: stopped after ${s.requests} requests (${s.completions} completions; faults: ${JSON.stringify(s.faults)}, restarts: ${s.restarts})`);
  return EXIT_OK;
}

export const serveLocalCommand: Command = {
  name: 'serve-local',
  summary: 'serve-local [--db PROJECT.sqlite]     run a LOCAL STAND-IN vLLM-compatible server (tests, offline demo)',
  help: HELP,
  run,
};

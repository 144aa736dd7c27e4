// The local vLLM stand-in as a separate process (`pairforge serve-local` of a built CLI), for
// benchmarks that must not share an event loop with the server, and for tests that kill the
// server (SIGKILL) and start it again on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { faultSpec } from './faults';
import type { LocalVllmOptions } from './server';

/** The server's own options that `serve-local` has flags for, plus where the CLI is. */
export interface SpawnOptions
  extends Pick<LocalVllmOptions, 'port' | 'host' | 'db' | 'model' | 'latencyMs' | 'faults' | 'seed' | 'apiKey' | 'maxModelLen' | 'ngram' | 'tokenizer'> {
  /** Path of the bundled CLI (dist/cli.js, or test/support/cliHarness.ts buildCli()). */
  cli: string;
  /** Milliseconds to wait for the server to listen (default 60 s). */
  startTimeoutMs?: number;
}

export interface LocalVllmProcess {
  url: string;
  baseURL: string;
  model: string;
  /** Every served model name (the default first, then the scoring models). */
  models: string[];
  port: number;
  child: ChildProcess;
  /** SIGTERM, resolves with the exit code once the process has exited. */
  close(): Promise<number | null>;
  /** SIGKILL (a server that disappears), resolves once the process is gone. */
  kill(): Promise<void>;
}

/** The serve-local arguments for these options (without the CLI path). */
export function serveLocalArgs(o: Omit<SpawnOptions, 'cli'>): string[] {
  const a = ['serve-local', '--json', '--port', String(o.port ?? 0)];
  const add = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) a.push(flag, String(v));
  };
  add('--host', o.host);
  add('--db', o.db);
  add('--model', o.model);
  add('--latency-ms', o.latencyMs);
  add('--seed', o.seed);
  add('--max-model-len', o.maxModelLen);
  add('--ngram-order', o.ngram?.order);
  add('--smoothing', o.ngram?.smoothing);
  add('--add-k', o.ngram?.k);
  add('--tokenizer', o.tokenizer);
  if (o.faults) {
    const { latencyMs, jitterMs, ...rest } = o.faults;
    if (latencyMs !== undefined && o.latencyMs === undefined) add('--latency-ms', latencyMs);
    add('--jitter-ms', jitterMs);
    const spec = faultSpec(rest);
    if (spec !== '') a.push('--fault', spec);
  }
  return a;
}

export function spawnLocalVllm(o: SpawnOptions): Promise<LocalVllmProcess> {
  // The key goes through the environment, never the command line (visible in `ps`).
  const env = { ...process.env, ...(o.apiKey !== undefined ? { PAIRFORGE_LOCAL_API_KEY: o.apiKey } : {}) };
  const child = spawn(process.execPath, [o.cli, ...serveLocalArgs(o)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve-local did not start within ${o.startTimeoutMs ?? 60_000} ms: ${stderr}`));
    }, o.startTimeoutMs ?? 60_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`serve-local exited with status ${code} before listening: ${stderr.trim()}`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const info = JSON.parse(stdout.slice(0, nl)) as { url: string; baseURL: string; model: string; models: string[]; port: number };
      resolve({
        ...info,
        child,
        close: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

// `pairforge serve-local` as a user runs it: the bundled CLI builds a project (import, targets),
// starts the local vLLM stand-in on a free port, answers vLLM's routes, stops cleanly on SIGTERM,
// and rejects bad options with exit status 2.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnLocalVllm } from '../../../server/localvllm/process';
import { buildCli, runCli } from '../../support/cliHarness';
import { fixturePath } from '../../support/paths';

const FIXTURES = fixturePath('datasets');
let cli: string;
let dir: string;
let db: string;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-servelocal-'));
  db = path.join(dir, 'project.sqlite');
  expect(runCli(cli, ['import', '--db', db, path.join(FIXTURES, 'apps-mini.jsonl')]).status).toBe(0);
  expect(runCli(cli, ['targets', '--db', db]).status).toBe(0);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

/** Starts serve-local and resolves with its --json line once it listens. */
function serve(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; info: { url: string; baseURL: string; model: string; port: number; targets: number }; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, 'serve-local', '--port', '0', '--json', ...args], { stdio: 'pipe' });
  let out = '';
  let errText = '';
  child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve-local did not start: ${errText}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, info: JSON.parse(out.slice(0, nl)), stderr: () => errText });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve-local exited with ${code}: ${errText}`)));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response): Promise<any> => r.json();
const exited = (child: ChildProcessWithoutNullStreams) => new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

describe('pairforge serve-local', () => {
  it('starts, answers vLLM routes from the project, and stops on SIGTERM', async () => {
    const { child, info, stderr } = await serve(['--db', db, '--model', 'demo-local', '--max-model-len', '4096', '--ngram-order', '2', '--seed', '3']);
    try {
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.baseURL).toBe(`${info.url}/v1`);
      expect(info.model).toBe('demo-local');
      expect(info.targets).toBeGreaterThan(0);
      // stdout and stderr are separate pipes: wait for the banner rather than assume an order.
      for (let i = 0; i < 100 && !/LOCAL STAND-IN/.test(stderr()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(stderr()).toMatch(/LOCAL STAND-IN vLLM server \(not a real model\)/);
      expect((await fetch(`${info.url}/health`)).status).toBe(200);
      const models = await json(await fetch(`${info.url}/v1/models`));
      expect(models.data[0]).toMatchObject({ id: 'demo-local', max_model_len: 4096 });
      const r = await fetch(`${info.baseURL}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo-local', prompt: '<|fim_prefix|>n = int(input())\n<|fim_suffix|>\nprint(n)\n<|fim_middle|>for', max_tokens: 16, n: 2, logprobs: 0 }),
      });
      expect(r.status).toBe(200);
      const body = await json(r);
      expect(body.choices).toHaveLength(2);
      expect(body.choices[0].logprobs.token_logprobs.every((x: number) => Number.isFinite(x))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    expect(stderr()).toMatch(/stopped after \d+ requests \(1 completions/);
  });

  it('applies --fault and --api-key from the command line', async () => {
    const { child, info } = await serve(['--fault', 'pattern=500/ok', '--api-key', 'k1']);
    try {
      const call = (key?: string) =>
        fetch(`${info.baseURL}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ prompt: 'x', max_tokens: 1 }),
        });
      expect((await call()).status).toBe(401);
      expect((await call('k1')).status).toBe(500);
      expect((await call('k1')).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });

  it('exits with status 2 when the port is taken', async () => {
    const { child, info } = await serve([]);
    try {
      const r = runCli(cli, ['serve-local', '--port', String(info.port)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });

  it('spawnLocalVllm: a separate server process that can be killed (-9) and restarted on its port', async () => {
    const a = await spawnLocalVllm({ cli, db, latencyMs: 5, faults: { pattern: ['ok', '500'] }, apiKey: 'k2', seed: 1 });
    const call = (url: string) =>
      fetch(`${url}/v1/completions`, { method: 'POST', headers: { authorization: 'Bearer k2', 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', max_tokens: 2 }) });
    expect((await call(a.url)).status).toBe(200);
    expect((await call(a.url)).status).toBe(500);
    await a.kill();
    await expect(fetch(`${a.url}/health`)).rejects.toThrow();
    const b = await spawnLocalVllm({ cli, db, port: a.port });
    try {
      expect(b.url).toBe(a.url);
      expect((await fetch(`${b.url}/health`)).status).toBe(200);
    } finally {
      expect(await b.close()).toBe(0);
    }
  });

  it('rejects bad options with exit status 2 and names the option', () => {
    const cases: [string[], RegExp][] = [
      [['--fault', 'boom=1'], /unknown fault 'boom'/],
      [['--smoothing', 'kn'], /--smoothing must be one of/],
      [['--port', 'x'], /--port must be a port number/],
      [['--db', path.join(dir, 'missing.sqlite')], /no such project file/],
    ];
    for (const [args, msg] of cases) {
      const r = runCli(cli, ['serve-local', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const help = runCli(cli, ['serve-local', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/LOCAL STAND-IN/);
  });
});

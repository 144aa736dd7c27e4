// A JSON-RPC client for the built engine server (dist/server.js over stdio), shared by the
// integration tests: build when stale, start, collect block notifications, stop.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import { BlocksNotification, type BlocksParams } from '../../server/protocol';

export const root = path.resolve(__dirname, '../..');
export const serverJs = path.join(root, 'dist/server.js');

/** Builds when dist/server.js is missing or older than the server sources it bundles. */
export function ensureBuilt(): void {
  const newest = readdirSync(path.join(root, 'server'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') || f.endsWith('.py'))
    .map((f) => statSync(path.join(root, 'server', f)).mtimeMs)
    .reduce((x, y) => Math.max(x, y), 0);
  if (!existsSync(serverJs) || statSync(serverJs).mtimeMs < newest) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
}

export interface Server {
  proc: ChildProcessWithoutNullStreams;
  conn: ProtocolConnection;
  stderr: () => string;
  /** Resolves with the first blocks notification for `uri` matching `pred` (past ones included). */
  blocks(uri: string, pred: (p: BlocksParams) => boolean): Promise<BlocksParams>;
}

/** Starts the server and initialises it; `capabilities` are the client's LSP capabilities. */
export async function startServer(capabilities: Record<string, unknown> = { window: { workDoneProgress: true } }): Promise<Server> {
  const proc = spawn(process.execPath, [serverJs, '--stdio'], { cwd: root });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const seen: BlocksParams[] = [];
  const waiters: { uri: string; pred: (p: BlocksParams) => boolean; resolve: (p: BlocksParams) => void }[] = [];
  conn.onNotification(BlocksNotification, (p) => {
    seen.push(p);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.pred(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  conn.listen();
  await conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities });
  await conn.sendNotification('initialized', {});
  return {
    proc,
    conn,
    stderr: () => err,
    blocks(uri, pred) {
      const hit = [...seen].reverse().find((p) => p.uri === uri && pred(p));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no blocks notification for ${uri} within 10 s; stderr: ${err}`)), 10_000);
        waiters.push({ uri, pred, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
  };
}

export async function stopServer(s: Server): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
  await s.conn.sendRequest('shutdown');
  await s.conn.sendNotification('exit');
  const code = await exited;
  s.conn.dispose();
  return code;
}

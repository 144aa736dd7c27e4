// The engine server in the test's own process: startServer on one end of an in-memory connection
// pair, a JSON-RPC client on the other. Handlers run exactly as in dist/server.js, without spawning.
import { PassThrough } from 'node:stream';
import { createConnection } from 'vscode-languageserver/node';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import { startServer } from '../../server/server';
import type { EngineContext } from '../../server/lsp/context';

export interface InProcessServer {
  client: ProtocolConnection;
  ctx: EngineContext;
  /** Progress reports the server sent, per work-done token. */
  progress: Map<string | number, { kind: string; message?: string; percentage?: number; title?: string }[]>;
  /** Log lines the server wrote (window/logMessage). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startInProcess(capabilities: Record<string, unknown> = { window: { workDoneProgress: true } }): Promise<InProcessServer> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const ctx = startServer(serverConnection);
  const client = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const progress: InProcessServer['progress'] = new Map();
  const logs: string[] = [];
  client.onNotification('window/logMessage', (p: { message: string }) => void logs.push(p.message));
  client.onNotification('$/progress', (p: { token: string | number; value: { kind: string; message?: string; percentage?: number; title?: string } }) => {
    const list = progress.get(p.token) ?? [];
    list.push(p.value);
    progress.set(p.token, list);
  });
  client.listen();
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities });
  await client.sendNotification('initialized', {});
  return {
    client,
    ctx,
    progress,
    logs,
    async stop() {
      await client.sendRequest('shutdown');
      client.dispose();
      serverConnection.dispose();
      toServer.end();
      toClient.end();
    },
  };
}

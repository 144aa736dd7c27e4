// The engine server's entry (dist/server.js): LSP over stdio or node-ipc, which
// vscode-languageserver picks from `--stdio` / `--node-ipc` on the command line as the client
// passes it. Everything else is server.ts and the stages' features.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));

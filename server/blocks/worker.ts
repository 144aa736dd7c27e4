// Worker thread for batch block extraction (built to dist/blocks-worker.js). Loads the grammar
// once, then for each requested file reads it, prepares it under the preset and finds its target
// spans. It sends back the prepared code and the spans packed in an Int32Array; the main thread
// cuts pre/mid/suf, so a file's text crosses threads once however many targets it has.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { findTargetSpans } from './cut';
import { loadPython } from './parser';
import type { WorkerReply, WorkerRequest } from './workerProtocol';
import { packSpans } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('server/blocks/worker.ts must run as a worker thread');

const grammar = loadPython();

port.on('message', (req: WorkerRequest) => {
  grammar.then(
    (g) => {
      let reply: WorkerReply;
      let source: string;
      try {
        source = readFileSync(req.file, 'utf8');
      } catch (e) {
        reply = { seq: req.seq, code: '', spans: new Int32Array(0), error: `cannot read ${req.file}: ${(e as Error).message}` };
        port.postMessage(reply);
        return;
      }
      try {
        const r = findTargetSpans(g, source, req.opts);
        const spans = packSpans(r.spans);
        reply = { seq: req.seq, code: r.code, spans, ...(r.error !== undefined ? { error: r.error } : {}) };
        port.postMessage(reply, [spans.buffer as ArrayBuffer]);
      } catch (e) {
        reply = { seq: req.seq, code: '', spans: new Int32Array(0), error: `${req.file}: ${(e as Error).stack ?? String(e)}` };
        port.postMessage(reply);
      }
    },
    (e: Error) => {
      port.postMessage({ seq: req.seq, fatal: `cannot load the Python grammar: ${e.message}` } satisfies WorkerReply);
    },
  );
});

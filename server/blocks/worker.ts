// Worker thread for batch block extraction (built to dist/blocks-worker.js). Loads the grammar
// once, then for each requested input (a file it reads, or a text) prepares it under the preset and
// finds its target spans. It sends back the prepared code and the spans packed in an Int32Array; the main thread
// cuts pre/mid/suf, so a file's text crosses threads once however many targets it has.
import { parentPort } from 'node:worker_threads';
import { findTargetSpans } from './cut';
import { loadPython } from './parser';
import type { WorkerReply, WorkerRequest } from './workerProtocol';
import { packSpans, readInput } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('server/blocks/worker.ts must run as a worker thread');

const grammar = loadPython();

port.on('message', (req: WorkerRequest) => {
  grammar.then(
    (g) => {
      let reply: WorkerReply;
      const read = readInput(req.input);
      if ('error' in read) {
        reply = { seq: req.seq, code: '', spans: new Int32Array(0), error: read.error, unreadable: true };
        port.postMessage(reply);
        return;
      }
      try {
        const r = findTargetSpans(g, read.source, req.opts);
        const spans = packSpans(r.spans);
        reply = { seq: req.seq, code: r.code, spans, ...(r.error !== undefined ? { error: r.error } : {}) };
        port.postMessage(reply, [spans.buffer as ArrayBuffer]);
      } catch (e) {
        const name = 'file' in req.input ? req.input.file : `input ${req.seq + 1}`;
        reply = { seq: req.seq, code: '', spans: new Int32Array(0), error: `${name}: ${(e as Error).stack ?? String(e)}` };
        port.postMessage(reply);
      }
    },
    (e: Error) => {
      port.postMessage({ seq: req.seq, fatal: `cannot load the Python grammar: ${e.message}` } satisfies WorkerReply);
    },
  );
});

// One helper for long-running requests: LSP work-done progress on the client's token, and the
// request's cancellation turned into an AbortSignal the stage's job honours.
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import type { WorkDoneToken } from '../protocol';

export interface Progress {
  /** `percent` 0-100 (undefined keeps the bar as it is), and a line of text. */
  report(percent: number | undefined, message?: string): void;
  /** Aborted when the client cancels the request. */
  readonly signal: AbortSignal;
}

export interface ProgressOptions {
  title: string;
  /** Show a percentage from the start (else the bar is indeterminate until the first report). */
  percentage?: boolean;
  message?: string;
}

/** Runs `body` with progress on `workDoneToken` and cancellation from `token`; the progress ends
 * and the listener is removed however `body` ends. */
export async function withProgress<T>(
  connection: Connection,
  workDoneToken: WorkDoneToken | undefined,
  token: CancellationToken,
  opts: ProgressOptions,
  body: (progress: Progress) => Promise<T>,
): Promise<T> {
  const workDone = connection.window.attachWorkDoneProgress(workDoneToken);
  const abort = new AbortController();
  const onCancel = token.onCancellationRequested(() => abort.abort());
  if (token.isCancellationRequested) abort.abort();
  workDone.begin(opts.title, opts.percentage ? 0 : undefined, opts.message, true);
  try {
    return await body({
      signal: abort.signal,
      report: (percent, message) => {
        if (percent === undefined) workDone.report(message ?? '');
        else if (message === undefined) workDone.report(Math.max(0, Math.min(100, Math.floor(percent))));
        else workDone.report(Math.max(0, Math.min(100, Math.floor(percent))), message);
      },
    });
  } finally {
    onCancel.dispose();
    workDone.done();
  }
}

/** A reporter that passes on at most one report per `intervalMs` (the last one of a burst is
 * dropped; the next report after the interval shows the newer state). */
export function throttled(report: Progress['report'], intervalMs: number): Progress['report'] {
  let last = 0;
  return (percent, message) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    report(percent, message);
  };
}

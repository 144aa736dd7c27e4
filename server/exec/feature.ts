// The exec feature: Run Tests on an open document linked to a problem, in the sandbox (trusted
// workspaces only), and the server's one execution engine (host.ts), which later stages use to
// run the candidates they make.
import type { Connection } from 'vscode-languageserver/node';
import { linkedProblem } from '../import/problemLink';
import { problemTests } from '../import/queries';
import type { EngineContext } from '../lsp/context';
import { cancelled, guarded, invalidParams, UNTRUSTED } from '../lsp/errors';
import { withProgress } from '../lsp/progress';
import { RunTestsRequest, SandboxStatusNotification, asComparator, type Comparator, type ProblemRef } from '../protocol';
import { ResponseError } from 'vscode-languageserver/node';
import type { Project } from '../store/db';
import { ExecEngine } from './engine';
import { ExecHost } from './host';
import { failureLine, runTestsResult } from './testResults';

/** The second lock after the client's own check: no code runs unless the client said the
 * workspace is trusted (an older or foreign client that says nothing is treated as untrusted). */
export function requireTrusted(ctx: EngineContext, what: string): void {
  if (!ctx.settings().trusted) {
    throw new ResponseError(UNTRUSTED, `${what}: this workspace is not trusted, and PairForge runs no code in an untrusted workspace (trust it with "Manage Workspace Trust")`);
  }
}

/** The comparator of the settings. */
export function comparatorOf(ctx: EngineContext): Comparator {
  return asComparator(ctx.settings().exec.comparator);
}

/** An open document, or an error saying the server runs what the editor shows. */
export function openDocument(ctx: EngineContext, uri: string) {
  const doc = ctx.documents.get(uri);
  if (!doc) throw invalidParams(`${uri} is not open in the editor (the server runs what the editor shows)`);
  return doc;
}

/** The problem a document is linked to, or an error that says how to link one. */
export function requireProblem(p: Project, uri: string, text: string): ProblemRef {
  const problem = linkedProblem(p, uri, text);
  if (!problem) {
    throw invalidParams(
      `${uri} is not linked to a problem: open a solution from the Datasets view, or put "# pairforge-problem: <dataset>/<problem id>" in one of the first lines (PairForge: Link File to Problem...)`,
    );
  }
  return problem;
}

export interface ExecService {
  host: ExecHost;
}

export function execFeature(ctx: EngineContext): ExecService {
  const connection: Connection = ctx.connection;
  const host = new ExecHost(
    (opts) => ExecEngine.create(opts),
    (line) => ctx.log.warn(`exec: ${line}`),
    (status) => void connection.sendNotification(SandboxStatusNotification, status),
  );
  ctx.onDidChangeSettings((now) => host.configure(now.exec));
  ctx.onShutdown(() => host.close());

  connection.onRequest(RunTestsRequest, (params, token) =>
    guarded('run tests', async () => {
      requireTrusted(ctx, 'run tests');
      const doc = openDocument(ctx, params.uri);
      const text = doc.getText();
      const version = doc.version;
      return ctx.projects.hold('run tests', {}, async (p) => {
        const problem = requireProblem(p, params.uri, text);
        const tests = problemTests(p, problem.problemId);
        if (tests.length === 0) throw invalidParams(`problem ${problem.dataset}/${problem.externalId} has no tests stored`);
        const title = `Running ${tests.length} test${tests.length === 1 ? '' : 's'} of ${problem.dataset}/${problem.externalId}`;
        return withProgress(connection, params.workDoneToken, token, { title, message: host.started ? undefined : 'starting the sandbox' }, async ({ signal }) => {
          try {
            const result = await host.use((engine) => engine.run(text, tests, { comparator: comparatorOf(ctx), allResults: params.allResults !== false, signal }));
            if (signal.aborted) throw cancelled('run tests');
            return runTestsResult(problem, version, result, tests.map((t) => t.kind), (t) => failureLine(t, doc.lineCount));
          } catch (e) {
            if (signal.aborted) throw cancelled('run tests');
            throw e;
          }
        });
      });
    }),
  );

  return { host };
}

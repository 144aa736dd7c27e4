// The sampling feature: endpoint health, "Sample xN" / "Sample all blocks" (the sampling job over
// the chosen targets of a stored solution, then, in trusted workspaces, the tests of the new
// samples on the exec feature's engine), the Samples view, and the code lenses of Python
// documents (Run Tests, Cut into targets, Sample, sample counts).
import os from 'node:os';
import type { CodeLens } from 'vscode-languageserver/node';
import { isBlocksDocument, presetOptions } from '../blocks/feature';
import { comparatorOf, openDocument, requireProblem, type ExecService } from '../exec/feature';
import { runPending } from '../exec/runPending';
import { linkedProblem } from '../import/problemLink';
import type { EngineContext } from '../lsp/context';
import { guarded, invalidParams } from '../lsp/errors';
import { withProgress } from '../lsp/progress';
import { BlockSamplesRequest, EndpointHealthRequest, SampleRequest, type ProblemRef, type SampleSummary } from '../protocol';
import { presetKey } from '../targets/cutAll';
import { documentTargets, isCut } from '../targets/documentTargets';
import { SAMPLE_CANDIDATES } from './candidates';
import { sampleCounts, samplesOf } from './documentSamples';
import { checkSampling, chooseTargets, verdictCounts } from './editorSample';
import { checkEndpoints, sampleTargets } from './job';
import { buildCodeLenses } from './lenses';

export function samplingFeature(ctx: EngineContext, exec: ExecService): void {
  const { connection, projects, log } = ctx;

  ctx.onInitialize(() => ({ codeLensProvider: { resolveProvider: false } }));
  ctx.onDidChangeSettings((now, before) => {
    const lensesChanged =
      !before || before.dbPath !== now.dbPath || before.preset !== now.preset || before.extraKinds.join() !== now.extraKinds.join() || before.sampleN !== now.sampleN;
    if (lensesChanged) ctx.refreshLenses();
  });

  connection.onCodeLens((params): CodeLens[] => {
    const uri = params.textDocument.uri;
    const doc = ctx.documents.get(uri);
    if (!doc || !isBlocksDocument(uri, doc.languageId) || !projects.path) return [];
    try {
      const p = projects.get();
      if (!p) return [];
      const text = doc.getText();
      let problem: ProblemRef | null = null;
      let linkError: string | undefined;
      try {
        problem = linkedProblem(p, uri, text);
      } catch (e) {
        linkError = (e as Error).message;
      }
      const key = presetKey(presetOptions(ctx));
      const targets = problem ? documentTargets(p, problem, text, key) : [];
      return buildCodeLenses({
        uri,
        problem,
        linkError,
        targets,
        needsCut: problem?.solutionId !== undefined && !isCut(p, problem, key),
        presetKey: key,
        counts: sampleCounts(p, targets.map((t) => t.targetId), comparatorOf(ctx)),
        n: ctx.settings().sampleN,
      });
    } catch (e) {
      log.error(`code lenses of ${uri}: ${(e as Error).message}`);
      return [];
    }
  });

  connection.onRequest(BlockSamplesRequest, (params) =>
    guarded(`samples of ${params.uri}`, () => {
      const doc = openDocument(ctx, params.uri);
      const p = projects.get();
      if (!p) return [];
      const problem = linkedProblem(p, params.uri, doc.getText());
      if (!problem) return [];
      return samplesOf(p, documentTargets(p, problem, doc.getText(), presetKey(presetOptions(ctx))), comparatorOf(ctx));
    }),
  );

  connection.onRequest(EndpointHealthRequest, (params, token) =>
    guarded('endpoint health', async () => {
      const endpoints = params?.endpoints;
      if (!Array.isArray(endpoints) || endpoints.some((e) => !e || typeof e.url !== 'string' || typeof e.model !== 'string')) {
        throw invalidParams('endpoint health: `endpoints` must be a list of {url, model, apiKey?}');
      }
      const abort = new AbortController();
      const onCancel = token.onCancellationRequested(() => abort.abort());
      try {
        const health = await checkEndpoints(endpoints, abort.signal);
        // In the editor the key is set with a command, not the CLI's environment variable.
        return health.map((h) => (h.error ? { ...h, error: h.error.replace('(set PAIRFORGE_API_KEY)', '(PairForge: Set Endpoint API Key...)') } : h));
      } finally {
        onCancel.dispose();
      }
    }),
  );

  connection.onRequest(SampleRequest, (params, token) =>
    guarded('sample', async () => {
      const doc = openDocument(ctx, params.uri);
      const text = doc.getText();
      return projects.hold('sample', {}, async (p) => {
        const problem = requireProblem(p, params.uri, text);
        const key = presetKey(presetOptions(ctx));
        let checked: ReturnType<typeof checkSampling>;
        let targets: ReturnType<typeof chooseTargets>;
        try {
          checked = checkSampling(params.endpoints, params.params);
          targets = chooseTargets(documentTargets(p, problem, text, key), params.targetIds);
        } catch (e) {
          throw invalidParams(`sample: ${(e as Error).message}`);
        }
        if (targets.length === 0) throw invalidParams(`sample: ${params.uri} has no stored targets under ${key}: cut it first (PairForge: Cut Solutions into Targets)`);
        const { params: v, endpoints } = checked;
        const title = `Sampling ${targets.length} block${targets.length === 1 ? '' : 's'} × ${v.n}`;
        return withProgress(connection, params.workDoneToken, token, { title, percentage: true, message: 'checking the endpoints' }, async (progress) => {
          const { signal } = progress;
          const job = await sampleTargets(
            p,
            targets.map((t) => t.targetId),
            {
              family: v.family,
              ...(v.customTokens ? { custom: v.customTokens } : {}),
              n: v.n,
              temperature: v.temperature,
              topP: v.topP,
              maxTokens: v.maxTokens,
              concurrency: v.concurrency,
              endpoints,
            },
            {
              signal,
              onProgress: (e) => progress.report(e.total > 0 ? (e.done / e.total) * 100 : 0, `${e.done} / ${e.total} samples${e.failed ? `, ${e.failed} failed` : ''}`),
              log: (m) => log.info(`sample: ${m}`),
            },
          );
          ctx.refreshLenses();
          const summary: SampleSummary = {
            jobId: job.jobId,
            targets: job.targets,
            samples: job.samples,
            skipped: job.skippedTargets,
            verdicts: {},
            cancelled: signal.aborted,
            ...(job.message ? { message: job.message } : {}),
          };
          if (signal.aborted || job.samples === 0) return summary;
          // Tests of the new samples: only where the client says the workspace is trusted.
          if (!params.runTests || !ctx.settings().trusted) {
            summary.message = [summary.message, 'tests not run: the workspace is not trusted'].filter(Boolean).join('; ');
            return summary;
          }
          progress.report(100, `running the tests of ${job.samples} samples`);
          const run = await exec.host.use((engine) =>
            runPending(p, engine, {
              selection: { sources: [SAMPLE_CANDIDATES], jobId: job.jobId },
              comparator: comparatorOf(ctx),
              // The engine queues runs on its workers; this only keeps them all busy.
              concurrency: 2 * (ctx.settings().exec.workers || os.cpus().length),
              signal,
            }),
          );
          summary.verdicts = verdictCounts(run);
          summary.cancelled = signal.aborted;
          if (run.errors > 0) summary.message = [summary.message, `${run.errors} samples could not be run: ${run.error_messages[0] ?? ''}`].filter(Boolean).join('; ');
          ctx.refreshLenses();
          return summary;
        });
      });
    }),
  );
}

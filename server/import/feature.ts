// The import feature: the Datasets view (datasets -> problems -> solutions / histories ->
// versions), the stored documents behind `pairforge:` URIs, dataset import with progress and
// cancel, and which problem an open document is linked to.
import path from 'node:path';
import type { EngineContext } from '../lsp/context';
import { guarded, invalidParams, InvalidInputError } from '../lsp/errors';
import { throttled, withProgress } from '../lsp/progress';
import { DATASET_FORMATS, DatasetChildrenRequest, DocumentContentRequest, ImportRequest, LinkedProblemRequest } from '../protocol';
import { ProjectUnavailableError } from '../store/host';
import { documentText, listChildren } from './browse';
import { importFiles, ImportError } from './importer';
import { linkedProblem } from './problemLink';

/** Progress reports during an import, at most this often. */
const PROGRESS_INTERVAL_MS = 100;

export function importFeature(ctx: EngineContext): void {
  const { connection, projects } = ctx;

  connection.onRequest(DatasetChildrenRequest, (params) =>
    guarded('datasets', () => {
      const p = projects.get();
      return p ? listChildren(p, params?.parent) : [];
    }),
  );

  connection.onRequest(DocumentContentRequest, (params) =>
    guarded(`document ${params.uri}`, () => {
      const p = projects.get();
      if (!p) throw new ProjectUnavailableError(`no project file at ${projects.path}: cannot open ${params.uri}`);
      return { text: documentText(p, params.uri) };
    }),
  );

  connection.onRequest(LinkedProblemRequest, (params) =>
    guarded(`problem of ${params.uri}`, () => {
      const p = projects.get();
      return p ? linkedProblem(p, params.uri, ctx.documents.get(params.uri)?.getText()) : null;
    }),
  );

  connection.onRequest(ImportRequest, (params, token) =>
    guarded('import', async () => {
      if (!params || !Array.isArray(params.files) || params.files.length === 0 || params.files.some((f) => typeof f !== 'string')) {
        throw invalidParams('import: `files` must be a non-empty array of paths');
      }
      if (params.format !== undefined && !DATASET_FORMATS.includes(params.format)) {
        throw invalidParams(`import: unknown format ${JSON.stringify(params.format)} (one of ${DATASET_FORMATS.join(', ')})`);
      }
      const files = params.files.map((f) => path.resolve(f));
      try {
        return await projects.hold('import', { create: true, exclusive: true }, (p) =>
          withProgress(connection, params.workDoneToken, token, { title: 'Importing datasets', percentage: true, message: `${files.length} file${files.length === 1 ? '' : 's'}` }, (progress) => {
            const report = throttled(progress.report, PROGRESS_INTERVAL_MS);
            return importFiles(p, files, {
              format: params.format,
              signal: progress.signal,
              onProgress: (e) => {
                const i = files.indexOf(e.file);
                // Overall fraction: finished files count whole, the current one by bytes read.
                const fileShare = e.totalBytes > 0 ? Math.min(1, e.bytes / e.totalBytes) : 0;
                report(((Math.max(0, i) + fileShare) / files.length) * 100, `${path.basename(e.file)}: line ${e.line}`);
              },
            });
          }),
        );
      } catch (e) {
        throw e instanceof ImportError ? new InvalidInputError(e.message) : e;
      } finally {
        // Header links may name problems that exist now.
        ctx.refreshLenses();
      }
    }),
  );
}

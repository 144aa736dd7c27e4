// The targets feature: "Cut Solutions into Targets" from the editor (resumable, idempotent, with
// progress and cancel), under the block rules of the settings.
import { presetOptions } from '../blocks/feature';
import type { EngineContext } from '../lsp/context';
import { guarded } from '../lsp/errors';
import { withProgress } from '../lsp/progress';
import { CutTargetsRequest } from '../protocol';
import { cutAllTargets, presetKey } from './cutAll';

export function targetsFeature(ctx: EngineContext): void {
  const { connection, projects } = ctx;
  connection.onRequest(CutTargetsRequest, (params, token) =>
    guarded('cut targets', () =>
      projects.hold('cut targets', { exclusive: true }, (p) => {
        const preset = presetOptions(ctx);
        return withProgress(connection, params?.workDoneToken, token, { title: `Cutting solutions into targets (${presetKey(preset)})`, percentage: true }, async (progress) => {
          const s = await cutAllTargets(p, {
            ...preset,
            signal: progress.signal,
            onProgress: (done, total) => progress.report(total > 0 ? (done / total) * 100 : 100, `${done} / ${total} solutions`),
          });
          ctx.refreshLenses();
          return { preset: s.preset, cut: s.cut, targets: s.targets, cancelled: s.cancelled };
        });
      }),
    ),
  );
}

// Send to training from the editor: start a run (progress, cancel), follow its log (streamed as
// notifications to each task terminal that follows it), stop it, list the runs and their metrics,
// and prepare a host. The engine follows each running run once, whoever watches: its status and
// metrics are stored as they come, and after a reload the editor asks to follow it again
// (docs/training.md "In the editor").
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { requireTrusted } from '../exec/feature';
import type { EngineContext } from '../lsp/context';
import { cancelled, guarded, invalidParams } from '../lsp/errors';
import { withProgress } from '../lsp/progress';
import {
  FINAL_TRAINING_STATUSES,
  PrepareHostRequest,
  readTrainingSettings,
  TrainingFollowRequest,
  TrainingLogNotification,
  TrainingMetricsRequest,
  TrainingRunChangedNotification,
  TrainingRunsRequest,
  TrainingStartRequest,
  TrainingStopRequest,
  type HostEnvironment,
  type TrainingRunView,
  type TrainingSettings,
} from '../protocol';
import type { Project } from '../store/db';
import { findTrainerDir, followRun, localRunDir, metricRows, pollRun, prepareHost, sendRun, settleInterruptedSends, stopRun, type HandoffEnv } from './handoff';
import { RUN_FILES } from './scripts';
import { ConnectionError, HostPool } from './ssh';
import { getTrainingRun, listTrainingRuns, metricsCount, type TrainingRun } from './store';

/** How long a follower waits before trying again after the connection dropped, each time. */
const RETRY_SECONDS = [2, 5, 10, 20, 30];

export function viewOf(p: Project, r: TrainingRun): TrainingRunView {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    remoteDir: r.remoteDir,
    runDir: r.runDir,
    launcher: r.launcher,
    model: r.model,
    tiny: r.tiny,
    status: r.status,
    message: r.message,
    trainerState: r.trainerState,
    step: r.step,
    maxSteps: r.maxSteps,
    exitCode: r.exitCode,
    pairs: r.exportPairs,
    records: r.exportRecords,
    exportSha256: r.exportSha256,
    uploadLiteralBytes: r.uploadLiteralBytes,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    metrics: metricsCount(p, r.id),
    scoreRunId: r.scoreRunId,
    localDir: localRunDir(p, r.id),
  };
}

/** The settings a request carries, read with the settings' defaults and then checked. */
function settingsOf(raw: unknown): TrainingSettings {
  if (!raw || typeof raw !== 'object') throw invalidParams('training: `settings` is required (the pairforge.training.* settings)');
  const o = raw as Record<string, unknown>;
  const s = readTrainingSettings((k) => o[k]);
  if (!s.host) throw invalidParams('training: no host: set pairforge.training.host (a Host alias of your ssh config, or user@host)');
  return s;
}

interface Subscriber {
  stream: string;
}

/** One run followed by the engine, for every terminal that watches it. */
class Follower {
  readonly subscribers = new Set<Subscriber>();
  readonly done: Promise<TrainingRunView>;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: EngineContext,
    private readonly env: HandoffEnv,
    readonly runId: number,
    onEnd: () => void,
  ) {
    this.done = ctx.projects
      .hold(`follow run ${runId}`, {}, (p) => this.loop(p))
      .finally(onEnd);
    // A follow nobody waits on must not be an unhandled rejection.
    this.done.catch(() => undefined);
  }

  private send(text: string): void {
    for (const s of this.subscribers) void this.ctx.connection.sendNotification(TrainingLogNotification, { stream: s.stream, text });
  }

  /** A new watcher: the log so far (the local copy), then what comes. Synchronous, so nothing is
   * missed or doubled between the two. */
  join(p: Project, s: Subscriber): void {
    const file = path.join(localRunDir(p, this.runId), RUN_FILES.log);
    const copy = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (copy) void this.ctx.connection.sendNotification(TrainingLogNotification, { stream: s.stream, text: copy });
    this.subscribers.add(s);
  }

  stop(): void {
    this.abort.abort();
  }

  private async loop(p: Project): Promise<TrainingRunView> {
    const changed = (r: TrainingRun) => void this.ctx.connection.sendNotification(TrainingRunChangedNotification, viewOf(p, r));
    for (let attempt = 0; ; attempt++) {
      try {
        const run = await followRun(p, this.env, this.runId, {
          signal: this.abort.signal,
          noReplay: true,
          onLog: (t) => this.send(t),
          onChange: changed,
          onProgress: (m) => this.send(`\n[pairforge] ${m}\n`),
        });
        return viewOf(p, run);
      } catch (e) {
        if (!(e instanceof ConnectionError) || e.kind !== 'lost' || attempt >= RETRY_SECONDS.length || this.abort.signal.aborted) throw e;
        const wait = RETRY_SECONDS[attempt];
        this.send(`\n[pairforge] ${e.message}; the run goes on on the host; following again in ${wait} s\n`);
        this.ctx.log.warn(`training run ${this.runId}: ${e.message}; following again in ${wait} s`);
        await new Promise((r) => setTimeout(r, wait * 1000));
      }
    }
  }
}

export function trainingFeature(ctx: EngineContext): void {
  const { connection, projects, log } = ctx;
  const pool = new HostPool();
  let trainerDir: string | undefined;
  const env = (): HandoffEnv => ({ pool, trainerDir: (trainerDir ??= findTrainerDir()) });
  const followers = new Map<number, Follower>();
  ctx.onShutdown(async () => {
    for (const f of followers.values()) f.stop();
    await Promise.allSettled([...followers.values()].map((f) => f.done));
    await pool.closeAll();
  });

  /** The run's follower, started when there is none. */
  const followerOf = (runId: number): Follower => {
    let f = followers.get(runId);
    if (!f) {
      f = new Follower(ctx, env(), runId, () => followers.delete(runId));
      followers.set(runId, f);
    }
    return f;
  };

  connection.onRequest(TrainingRunsRequest, (params) =>
    guarded('training runs', async () => {
      const p = projects.get();
      if (!p) return [];
      // Sends of a process that is gone: without a run folder they failed; with one, the host says.
      await settleInterruptedSends(p, params?.refresh ? env() : undefined);
      if (params?.refresh) {
        // Where the unfinished runs nobody follows are now (one short ssh command each).
        const open = listTrainingRuns(p).filter((r) => !FINAL_TRAINING_STATUSES.includes(r.status) && r.runDir && !followers.has(r.id));
        await Promise.all(
          open.map((r) =>
            pollRun(p, env(), r.id).then(
              ({ state }) => {
                // An ended run is finished (results, held-out import) by following it.
                if (FINAL_TRAINING_STATUSES.includes(state.status)) followerOf(r.id);
              },
              (e: unknown) => log.warn(`training run ${r.id}: ${(e as Error).message}`),
            ),
          ),
        );
      }
      return listTrainingRuns(p).map((r) => viewOf(p, r));
    }),
  );

  connection.onRequest(TrainingStartRequest, (params, token) =>
    guarded('send to training', () => {
      requireTrusted(ctx, 'send to training');
      const settings = settingsOf(params?.settings);
      if (params.name !== undefined && typeof params.name !== 'string') throw invalidParams('send to training: `name` must be a string');
      return projects.hold('send to training', {}, (p) =>
        withProgress(connection, params.workDoneToken, token, { title: `Sending to ${settings.host}`, message: 'connecting' }, async (progress) => {
          try {
            const { run } = await sendRun(p, env(), {
              settings,
              ...(params.name ? { name: params.name } : {}),
              signal: progress.signal,
              onProgress: (m) => progress.report(undefined, m),
            });
            const view = viewOf(p, run);
            void connection.sendNotification(TrainingRunChangedNotification, view);
            // Followed from now on, terminal or not: its status and metrics are stored as they come.
            followerOf(run.id);
            return view;
          } catch (e) {
            if (progress.signal.aborted) throw cancelled('send to training');
            throw e;
          }
        }),
      );
    }),
  );

  connection.onRequest(TrainingFollowRequest, (params, token) =>
    guarded('follow training run', async () => {
      if (!Number.isInteger(params?.runId) || typeof params.stream !== 'string') throw invalidParams('follow: `runId` (integer) and `stream` (string) are required');
      const p = projects.require('follow training run');
      const run = getTrainingRun(p, params.runId);
      if (!run) throw invalidParams(`follow: no training run ${params.runId} in ${p.file}`);
      const sub: Subscriber = { stream: params.stream };
      if (FINAL_TRAINING_STATUSES.includes(run.status) && !followers.has(run.id)) {
        // Ended: its log as it was, from the local copy.
        const file = path.join(localRunDir(p, run.id), RUN_FILES.log);
        if (existsSync(file)) void connection.sendNotification(TrainingLogNotification, { stream: sub.stream, text: readFileSync(file, 'utf8') });
        return viewOf(p, run);
      }
      const f = followerOf(run.id);
      f.join(p, sub);
      try {
        return await new Promise<TrainingRunView>((resolve, reject) => {
          const off = token.onCancellationRequested(() => reject(cancelled(`follow run ${run.id}`)));
          f.done.then(resolve, reject).finally(() => off.dispose());
        });
      } finally {
        f.subscribers.delete(sub);
      }
    }),
  );

  connection.onRequest(TrainingStopRequest, (params) =>
    guarded('stop training run', async () => {
      if (!Number.isInteger(params?.runId)) throw invalidParams('stop: `runId` must be an integer');
      const p = projects.require('stop training run');
      const { run, outcome } = await stopRun(p, env(), params.runId);
      log.info(`training run ${run.id} '${run.name}': stop asked (${outcome})`);
      // A lost or ended run is finished by its follower; a signalled one ends under it.
      if (outcome !== 'signalled' || !followers.has(run.id)) followerOf(run.id);
      const view = viewOf(p, getTrainingRun(p, run.id)!);
      void connection.sendNotification(TrainingRunChangedNotification, view);
      return view;
    }),
  );

  connection.onRequest(TrainingMetricsRequest, (params) =>
    guarded('training metrics', () => {
      if (!Number.isInteger(params?.runId)) throw invalidParams('metrics: `runId` must be an integer');
      const p = projects.require('training metrics');
      const run = getTrainingRun(p, params.runId);
      if (!run) throw invalidParams(`metrics: no training run ${params.runId} in ${p.file}`);
      return { run: viewOf(p, run), rows: metricRows(p, run.id) };
    }),
  );

  connection.onRequest(PrepareHostRequest, (params, token) =>
    guarded('prepare training host', () => {
      requireTrusted(ctx, 'prepare training host');
      const settings = settingsOf(params?.settings);
      return withProgress(connection, params.workDoneToken, token, { title: `Preparing ${settings.host}`, message: 'connecting' }, async (progress): Promise<HostEnvironment> => {
        const stream = typeof params.stream === 'string' ? params.stream : undefined;
        const r = await prepareHost(env(), settings, {
          signal: progress.signal,
          onProgress: (m) => {
            progress.report(undefined, m);
            if (stream) void connection.sendNotification(TrainingLogNotification, { stream, text: `[pairforge] ${m}\n` });
          },
          onOutput: (text) => {
            if (stream) void connection.sendNotification(TrainingLogNotification, { stream, text });
          },
        });
        const e = r.env as Record<string, unknown>;
        const packages = (e.packages ?? {}) as Record<string, string | null>;
        return {
          host: settings.host,
          created: r.created,
          python: String(e.python ?? ''),
          executable: String(e.executable ?? settings.python),
          packages,
          cudaAvailable: e.cuda_available === true,
          cudaVersion: typeof e.cuda_version === 'string' ? e.cuda_version : null,
          gpuCount: typeof e.gpu_count === 'number' ? e.gpu_count : 0,
          gpus: Array.isArray(e.gpus) ? (e.gpus as { index: number; name: string; memory_mb: number }[]).map((g) => ({ index: g.index, name: g.name, memoryMb: g.memory_mb })) : [],
          mismatches: Array.isArray(e.mismatches) ? (e.mismatches as string[]) : [],
          missing: Array.isArray(e.missing) ? (e.missing as string[]) : [],
        };
      });
    }),
  );
}

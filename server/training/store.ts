// The training tables (migration 008_training): a run's record from before anything leaves the
// machine to its end, and its metrics lines as the trainer wrote them.
import type { Project } from '../store/db';
import type { TrainingLauncher, TrainingRunSummary, TrainingStatus } from '../protocol';
import { listRuns } from '../scoring/store';

export interface TrainingRun {
  id: number;
  name: string;
  host: string;
  sshConfig: string | null;
  sshOptions: string[];
  remoteDir: string;
  runDir: string | null;
  launcher: TrainingLauncher;
  launchCommand: string | null;
  python: string;
  model: string | null;
  tiny: boolean;
  config: Record<string, unknown>;
  exportSha256: string | null;
  exportPairs: number | null;
  exportRecords: number | null;
  exportOptions: unknown;
  /** The project's record of the export sent (server/export/store.ts). */
  exportId: number | null;
  uploadBytes: number | null;
  uploadLiteralBytes: number | null;
  status: TrainingStatus;
  message: string | null;
  trainerState: string | null;
  step: number | null;
  maxSteps: number | null;
  epoch: number | null;
  exitCode: number | null;
  remotePid: number | null;
  sender: string | null;
  metricsOffset: number;
  scoreRunId: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  stopRequestedAt: string | null;
  updatedAt: string;
}

interface Row {
  id: number;
  name: string;
  host: string;
  ssh_config: string | null;
  ssh_options: string;
  remote_dir: string;
  run_dir: string | null;
  launcher: TrainingLauncher;
  launch_command: string | null;
  python: string;
  model: string | null;
  tiny: number;
  config: string;
  export_sha256: string | null;
  export_pairs: number | null;
  export_records: number | null;
  export_options: string | null;
  export_id: number | null;
  upload_bytes: number | null;
  upload_literal_bytes: number | null;
  status: TrainingStatus;
  message: string | null;
  trainer_state: string | null;
  step: number | null;
  max_steps: number | null;
  epoch: number | null;
  exit_code: number | null;
  remote_pid: number | null;
  sender: string | null;
  metrics_offset: number;
  score_run_id: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  stop_requested_at: string | null;
  updated_at: string;
}

function json<T>(s: string | null, where: string, fallback: T): T {
  if (s === null) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch (e) {
    throw new Error(`${where}: stored JSON does not parse: ${(e as Error).message}`);
  }
}

function toRun(r: Row): TrainingRun {
  const w = `training_runs row ${r.id}`;
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    sshConfig: r.ssh_config,
    sshOptions: json<string[]>(r.ssh_options, `${w} ssh_options`, []),
    remoteDir: r.remote_dir,
    runDir: r.run_dir,
    launcher: r.launcher,
    launchCommand: r.launch_command,
    python: r.python,
    model: r.model,
    tiny: r.tiny === 1,
    config: json<Record<string, unknown>>(r.config, `${w} config`, {}),
    exportSha256: r.export_sha256,
    exportPairs: r.export_pairs,
    exportRecords: r.export_records,
    exportOptions: json<unknown>(r.export_options, `${w} export_options`, null),
    exportId: r.export_id,
    uploadBytes: r.upload_bytes,
    uploadLiteralBytes: r.upload_literal_bytes,
    status: r.status,
    message: r.message,
    trainerState: r.trainer_state,
    step: r.step,
    maxSteps: r.max_steps,
    epoch: r.epoch,
    exitCode: r.exit_code,
    remotePid: r.remote_pid,
    sender: r.sender,
    metricsOffset: r.metrics_offset,
    scoreRunId: r.score_run_id,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stopRequestedAt: r.stop_requested_at,
    updatedAt: r.updated_at,
  };
}

export interface NewTrainingRun {
  name: string;
  host: string;
  sshConfig: string | null;
  sshOptions: readonly string[];
  remoteDir: string;
  launcher: TrainingLauncher;
  python: string;
  model: string | null;
  tiny: boolean;
  config: Record<string, unknown>;
  /** The sending process, 'hostname pid'. */
  sender: string;
}

/** Records a new run (status uploading). A name already used for the same host and folder is an
 * error naming the run that has it. */
export function createTrainingRun(p: Project, r: NewTrainingRun, now: string): number {
  const clash = p.db
    .prepare<[string, string, string], { id: number; status: string }>('SELECT id, status FROM training_runs WHERE host = ? AND remote_dir = ? AND name = ?')
    .get(r.host, r.remoteDir, r.name);
  if (clash) throw new Error(`the run name '${r.name}' is taken on ${r.host}:${r.remoteDir} by run ${clash.id} (${clash.status}); choose another name`);
  return Number(
    p.db
      .prepare(
        `INSERT INTO training_runs (name, host, ssh_config, ssh_options, remote_dir, launcher, python, model, tiny, config, status, sender, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'uploading', ?, ?, ?)`,
      )
      .run(r.name, r.host, r.sshConfig, JSON.stringify(r.sshOptions), r.remoteDir, r.launcher, r.python, r.model, r.tiny ? 1 : 0, JSON.stringify(r.config), r.sender, now, now).lastInsertRowid,
  );
}

export function getTrainingRun(p: Project, id: number): TrainingRun | undefined {
  const r = p.db.prepare<[number], Row>('SELECT * FROM training_runs WHERE id = ?').get(id);
  return r ? toRun(r) : undefined;
}

/** A run by id, or by name (the newest of that name). Unknown: an error listing the newest runs. */
export function findTrainingRun(p: Project, ref: string): TrainingRun {
  if (/^\d+$/.test(ref)) {
    const byId = getTrainingRun(p, Number(ref));
    if (byId) return byId;
  }
  const byName = p.db.prepare<[string], Row>('SELECT * FROM training_runs WHERE name = ? ORDER BY id DESC LIMIT 1').get(ref);
  if (byName) return toRun(byName);
  const recent = p.db.prepare<[], { id: number; name: string }>('SELECT id, name FROM training_runs ORDER BY id DESC LIMIT 5').all();
  throw new Error(`no training run '${ref}' in ${p.file}${recent.length ? ` (newest: ${recent.map((x) => `${x.id} '${x.name}'`).join(', ')})` : ' (it has none yet)'}`);
}

/** Every run, newest first. */
export function listTrainingRuns(p: Project): TrainingRun[] {
  return p.db.prepare<[], Row>('SELECT * FROM training_runs ORDER BY id DESC').all().map(toRun);
}

/** Every run as the dashboard shows it, newest first: the export it trained on, and its held-out
 * pairs' margins after training (the scoring run they were imported as) beside the newest scoring
 * run made before the run was sent, when there is one. That "before" is a scoring of the policy
 * itself: another training run's held-out results score that run's trained model, which the next
 * run does not start from (each run trains its config's model afresh). */
export function trainingSummaries(p: Project): TrainingRunSummary[] {
  const runs = listTrainingRuns(p);
  const trained = new Set(runs.flatMap((r) => (r.scoreRunId === null ? [] : [r.scoreRunId])));
  const scoring = listRuns(p).filter((s) => !trained.has(s.id));
  return runs.map((r) => {
    const before = scoring.find((s) => s.createdAt < r.createdAt);
    return {
      id: r.id,
      label: `${r.name} on ${r.host}`,
      status: r.status,
      exportId: r.exportId,
      pairs: r.exportPairs ?? 0,
      beforeRunId: r.scoreRunId !== null && before ? before.id : null,
      afterRunId: r.scoreRunId,
      finishedAt: r.finishedAt,
    };
  });
}

const COLUMNS: Partial<Record<keyof TrainingRun, string>> = {
  runDir: 'run_dir',
  launchCommand: 'launch_command',
  exportSha256: 'export_sha256',
  exportPairs: 'export_pairs',
  exportRecords: 'export_records',
  exportOptions: 'export_options',
  exportId: 'export_id',
  uploadBytes: 'upload_bytes',
  uploadLiteralBytes: 'upload_literal_bytes',
  status: 'status',
  message: 'message',
  trainerState: 'trainer_state',
  step: 'step',
  maxSteps: 'max_steps',
  epoch: 'epoch',
  exitCode: 'exit_code',
  remotePid: 'remote_pid',
  sender: 'sender',
  scoreRunId: 'score_run_id',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  stopRequestedAt: 'stop_requested_at',
};

export type TrainingRunUpdate = Partial<Pick<TrainingRun, 'sender' | 'runDir' | 'launchCommand' | 'exportSha256' | 'exportPairs' | 'exportRecords' | 'exportOptions' | 'exportId' | 'uploadBytes' | 'uploadLiteralBytes' | 'status' | 'message' | 'trainerState' | 'step' | 'maxSteps' | 'epoch' | 'exitCode' | 'remotePid' | 'scoreRunId' | 'startedAt' | 'finishedAt' | 'stopRequestedAt'>>;

/** Sets the given fields (and updated_at). */
export function updateTrainingRun(p: Project, id: number, u: TrainingRunUpdate, now: string): void {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [k, v] of Object.entries(u)) {
    const col = COLUMNS[k as keyof TrainingRun];
    if (!col || v === undefined) continue;
    sets.push(`${col} = ?`);
    values.push(k === 'exportOptions' ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
  sets.push('updated_at = ?');
  values.push(now, id);
  p.db.prepare(`UPDATE training_runs SET ${sets.join(', ')} WHERE id = ?`).run(...values);
}

/** Run folders of earlier runs on the same host (newest first) that hold an upload: rsync links
 * their unchanged files instead of sending them again. */
export function earlierRunDirs(p: Project, host: string, exceptId: number, limit = 3): string[] {
  return p.db
    .prepare<[string, number, number], { run_dir: string }>(
      "SELECT run_dir FROM training_runs WHERE host = ? AND id <> ? AND run_dir IS NOT NULL AND upload_bytes IS NOT NULL ORDER BY id DESC LIMIT ?",
    )
    .all(host, exceptId, limit)
    .map((r) => r.run_dir);
}

/** A parsed metrics line. */
export interface MetricsLine {
  step: number | null;
  data: string;
}

/** Stores the metrics lines read from byte `fromOffset` of the host's metrics.jsonl up to
 * `toOffset` (complete lines), numbered after the lines stored, in one transaction. When the run's
 * offset is no longer `fromOffset` (another follower stored them first) nothing is stored and it
 * answers false. */
export function addMetrics(p: Project, runId: number, fromOffset: number, lines: readonly MetricsLine[], toOffset: number, now: string): boolean {
  const ins = p.db.prepare('INSERT OR IGNORE INTO training_metrics (run_id, line, step, data) VALUES (?, ?, ?, ?)');
  return p.db.transaction(() => {
    const at = p.db.prepare<[number], { metrics_offset: number }>('SELECT metrics_offset FROM training_runs WHERE id = ?').get(runId);
    if (!at || at.metrics_offset !== fromOffset) return false;
    const first = metricsCount(p, runId) + 1;
    lines.forEach((l, i) => ins.run(runId, first + i, l.step, l.data));
    p.db.prepare('UPDATE training_runs SET metrics_offset = ?, updated_at = ? WHERE id = ?').run(toOffset, now, runId);
    return true;
  }).immediate();
}

/** Forgets a run's metrics (the host's file was cut back by a resumed run: it is read again). */
export function clearMetrics(p: Project, runId: number, now: string): void {
  p.db.transaction(() => {
    p.db.prepare('DELETE FROM training_metrics WHERE run_id = ?').run(runId);
    p.db.prepare('UPDATE training_runs SET metrics_offset = 0, updated_at = ? WHERE id = ?').run(now, runId);
  }).immediate();
}

export function metricsCount(p: Project, runId: number): number {
  return p.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM training_metrics WHERE run_id = ?').get(runId)!.n;
}

/** The metrics lines of a run in order, as JSON text. */
export function metricsOf(p: Project, runId: number): { line: number; step: number | null; data: string }[] {
  return p.db.prepare<[number], { line: number; step: number | null; data: string }>('SELECT line, step, data FROM training_metrics WHERE run_id = ? ORDER BY line').all(runId);
}

/** Runs still `uploading` whose sending process (on this machine) is gone: `alive(pid)` says
 * whether a pid runs. */
export function interruptedSends(p: Project, hostname: string, alive: (pid: number) => boolean): TrainingRun[] {
  return p.db
    .prepare<[], Row>("SELECT * FROM training_runs WHERE status = 'uploading' AND sender IS NOT NULL")
    .all()
    .map(toRun)
    .filter((r) => {
      const [h, pid] = (r.sender ?? '').split(' ');
      return h === hostname && Number.isInteger(Number(pid)) && !alive(Number(pid));
    });
}

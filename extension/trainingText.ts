// Texts of the training runs for people: the Training Runs view's rows and tooltips, the task
// terminal's lines, a prepared host's report. Pure (no `vscode`), so they are tested as they are.
import type { HostEnvironment, TrainingRunView, TrainingStatus } from '../server/protocol';

/** Codicon and theme colour per status. */
export const STATUS_ICONS: Record<TrainingStatus, [string, string | undefined]> = {
  uploading: ['cloud-upload', undefined],
  running: ['sync~spin', 'charts.blue'],
  succeeded: ['pass-filled', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'list.warningForeground'],
  lost: ['warning', 'list.warningForeground'],
};

/** "42 s", "3 min 5 s", "2 h 4 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How long a run ran (so far, when it runs), or undefined before it started. */
export function runDuration(r: Pick<TrainingRunView, 'startedAt' | 'finishedAt'>, now: number): string | undefined {
  if (!r.startedAt) return undefined;
  const start = Date.parse(r.startedAt);
  const end = r.finishedAt ? Date.parse(r.finishedAt) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? duration(end - start) : undefined;
}

/** "2026-12-07 04:17" in local time. */
export function startedText(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The status in words, with the step while training and the exit code once ended. */
export function statusText(r: TrainingRunView): string {
  if (r.status === 'running') return r.step !== null && r.maxSteps ? `step ${r.step}/${r.maxSteps}` : (r.trainerState ?? 'running');
  if (r.exitCode !== null && r.status !== 'succeeded') return `${r.status} (exit ${r.exitCode})`;
  return r.status;
}

/** The view's row: status · host · pairs · started · duration. */
export function runDescription(r: TrainingRunView, now: number): string {
  return [statusText(r), r.host, r.pairs !== null ? `${r.pairs} pairs` : undefined, startedText(r.startedAt ?? r.createdAt), runDuration(r, now)].filter(Boolean).join(' · ');
}

/** The row's tooltip (plain text: messages may hold anything). */
export function runTooltip(r: TrainingRunView): string {
  return [
    `${r.name} (run ${r.id}): ${statusText(r)}`,
    `host ${r.host}, folder ${r.runDir ?? `${r.remoteDir}/${r.name}`}`,
    `launcher ${r.launcher}, model ${r.tiny ? 'the tiny test model' : (r.model ?? '?')}`,
    r.pairs !== null ? `${r.pairs} pairs, ${r.records} records, export sha256 ${r.exportSha256?.slice(0, 16) ?? '?'}…` : undefined,
    r.uploadLiteralBytes !== null ? `upload: ${r.uploadLiteralBytes} bytes of new data` : undefined,
    r.trainerState ? `trainer: ${r.trainerState}${r.step !== null ? ` at step ${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''}` : ''}` : undefined,
    `${r.metrics} metrics lines`,
    r.scoreRunId !== null ? `held-out per-token results: scoring run ${r.scoreRunId}` : undefined,
    r.message ? `\n${r.message}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join('\n');
}

/** Text for a terminal: every line break as CRLF. */
export function toTerminal(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** The terminal's closing line for an ended run. */
export function endText(r: TrainingRunView, now: number): string {
  const took = runDuration(r, now);
  return [
    `PairForge: run '${r.name}' ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}${took ? ` in ${took}` : ''}`,
    r.step !== null ? `, ${r.step}${r.maxSteps ? `/${r.maxSteps}` : ''} steps` : '',
    r.scoreRunId !== null ? `; held-out results: scoring run ${r.scoreRunId}` : '',
    r.message ? `\n  ${r.message}` : '',
  ].join('');
}

/** The exit code a follow task ends with: 0 when the run succeeded. */
export function taskExitCode(r: TrainingRunView): number {
  if (r.status === 'succeeded') return 0;
  return r.exitCode !== null && r.exitCode !== 0 ? r.exitCode : 1;
}

/** A prepared host in one paragraph. */
export function hostEnvironmentText(e: HostEnvironment): string {
  const gpus = e.gpuCount ? `${e.gpuCount} GPU${e.gpuCount === 1 ? '' : 's'} (${e.gpus.map((g) => g.name).join(', ')})` : 'no GPU';
  return [
    `${e.host}: ${e.created ? 'made the venv' : 'the venv was there'} ${e.executable} (Python ${e.python})`,
    `torch ${e.packages.torch ?? 'missing'}, CUDA ${e.cudaAvailable ? e.cudaVersion ?? 'available' : 'not available'}, ${gpus}`,
    e.mismatches.length ? `versions that differ from requirements.txt: ${e.mismatches.join(', ')}` : undefined,
    e.missing.length ? `not importable: ${e.missing.join('; ')}` : undefined,
  ]
    .filter(Boolean)
    .join('\n');
}

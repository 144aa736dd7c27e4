// The training runs' texts in the editor (extension/trainingText.ts): pure.
import { describe, expect, it } from 'vitest';
import type { HostEnvironment, TrainingRunView } from '../../../server/protocol';
import { duration, endText, hostEnvironmentText, runDescription, runDuration, runTooltip, statusText, taskExitCode, toTerminal } from '../../../extension/trainingText';

const run = (over: Partial<TrainingRunView> = {}): TrainingRunView => ({
  id: 3,
  name: 'demo-1',
  host: 'gpu-1',
  remoteDir: '~/pairforge-runs',
  runDir: '/home/me/pairforge-runs/demo-1',
  launcher: 'python',
  model: null,
  tiny: true,
  status: 'running',
  message: null,
  trainerState: 'training',
  step: 3,
  maxSteps: 8,
  exitCode: null,
  pairs: 12,
  records: 12,
  exportSha256: '0188bcc29652c9fcfd905133d2a968a2',
  uploadLiteralBytes: 1129,
  createdAt: '2026-12-07T04:17:17.000Z',
  startedAt: '2026-12-07T04:17:18.000Z',
  finishedAt: null,
  metrics: 3,
  scoreRunId: null,
  localDir: '/ws/.pairforge/training/3',
  ...over,
});

describe('training run texts', () => {
  it('durations', () => {
    expect([duration(4_200), duration(185_000), duration(7_440_000)]).toEqual(['4 s', '3 min 5 s', '2 h 4 min']);
    const started = Date.parse('2026-12-07T04:17:18.000Z');
    expect(runDuration(run(), started + 65_000)).toBe('1 min 5 s');
    expect(runDuration(run({ finishedAt: '2026-12-07T04:17:40.000Z' }), started + 999_000)).toBe('22 s');
    expect(runDuration(run({ startedAt: null }), started)).toBeUndefined();
  });

  it('the row: status (step while training, exit code once ended) · host · pairs · started · duration', () => {
    expect(statusText(run())).toBe('step 3/8');
    expect(statusText(run({ step: null, trainerState: 'loading' }))).toBe('loading');
    expect(statusText(run({ status: 'failed', exitCode: 2 }))).toBe('failed (exit 2)');
    expect(statusText(run({ status: 'succeeded', exitCode: 0 }))).toBe('succeeded');
    const d = runDescription(run({ status: 'succeeded', exitCode: 0, finishedAt: '2026-12-07T04:17:40.000Z' }), Date.now());
    expect(d).toMatch(/^succeeded · gpu-1 · 12 pairs · 2026-12-07 \d\d:17 · 22 s$/);
  });

  it('the tooltip says where, what and how it ended', () => {
    const t = runTooltip(run({ status: 'failed', exitCode: 1, message: 'exit code 1: CUDA out of memory', scoreRunId: 4 }));
    expect(t).toContain('host gpu-1, folder /home/me/pairforge-runs/demo-1');
    expect(t).toContain('launcher python, model the tiny test model');
    expect(t).toContain('12 pairs, 12 records, export sha256 0188bcc29652c9fc…');
    expect(t).toContain('held-out per-token results: scoring run 4');
    expect(t.endsWith('\nexit code 1: CUDA out of memory')).toBe(true);
  });

  it('the terminal: CRLF line breaks, a closing line, the task exit code', () => {
    expect(toTerminal('a\nb\r\nc')).toBe('a\r\nb\r\nc');
    const ended = run({ status: 'succeeded', exitCode: 0, step: 8, finishedAt: '2026-12-07T04:17:40.000Z', scoreRunId: 4 });
    expect(endText(ended, 0)).toBe("PairForge: run 'demo-1' succeeded (exit 0) in 22 s, 8/8 steps; held-out results: scoring run 4");
    expect(taskExitCode(ended)).toBe(0);
    expect(taskExitCode(run({ status: 'stopped', exitCode: 143 }))).toBe(143);
    expect(taskExitCode(run({ status: 'lost', exitCode: null }))).toBe(1);
  });

  it("a prepared host's report", () => {
    const e: HostEnvironment = {
      host: 'gpu-1',
      created: true,
      python: '3.11.2',
      executable: '/home/me/.pairforge/venv/bin/python',
      packages: { torch: '2.13.0+cu128' },
      cudaAvailable: true,
      cudaVersion: '12.8',
      gpuCount: 2,
      gpus: [{ index: 0, name: 'H100', memoryMb: 81079 }, { index: 1, name: 'H100', memoryMb: 81079 }],
      mismatches: [],
      missing: [],
    };
    expect(hostEnvironmentText(e)).toBe('gpu-1: made the venv /home/me/.pairforge/venv/bin/python (Python 3.11.2)\ntorch 2.13.0+cu128, CUDA 12.8, 2 GPUs (H100, H100)');
    expect(hostEnvironmentText({ ...e, created: false, cudaAvailable: false, gpuCount: 0, gpus: [], missing: ['trl: No module named trl'] })).toContain('CUDA not available, no GPU\nnot importable: trl: No module named trl');
  });
});

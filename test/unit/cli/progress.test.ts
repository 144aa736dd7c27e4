// The command line's progress reporter (server/cli/kit.ts): the line's text (done / total, rate of
// this run, ETA, errors), a terminal's in-place redraw at most every 100 ms and a plain line every
// few seconds without one, --quiet, NO_COLOR, and log lines kept above the live line.
import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgressLine, ProgressReporter, rateAndEta, type ProgressSink } from '../../../server/cli/kit';

const ESC = '\x1b[';

function sink(tty: boolean, columns?: number): ProgressSink & { text: string } {
  const s = { text: '', isTTY: tty, ...(columns ? { columns } : {}), write: (x: string) => ((s.text += x), true) };
  return s;
}

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('progress line', () => {
  it('says done / total, percentage, the rate of this run, ETA, errors and a note', () => {
    const line = formatProgressLine({ stage: 'exec', unit: 'candidates', done: 1500, total: 5000, errors: 2, note: '1,000 run now', elapsedMs: 10_000, startDone: 500 }, { bar: false, color: false });
    // 1,000 candidates in 10 s = 100/s; 3,500 left = 35 s.
    expect(line).toBe('exec 1,500/5,000 candidates 30% · 100 candidates/s · ETA 35s · 2 errors · 1,000 run now');
  });

  it('draws a bar on a terminal and cuts the line to the width (colours included)', () => {
    const p = { stage: 'sample job 3', unit: 'samples', done: 50, total: 100, elapsedMs: 2000, startDone: 0 };
    expect(formatProgressLine(p, { bar: true, color: false })).toBe('sample job 3 [##########..........] 50/100 samples 50% · 25.0 samples/s · ETA 2s');
    const coloured = formatProgressLine({ ...p, errors: 1 }, { bar: true, color: true });
    expect(coloured).toContain(`${ESC}1m${ESC}36msample job 3${ESC}0m`);
    expect(coloured).toContain(`${ESC}31m1 error${ESC}0m`);
    const cut = formatProgressLine(p, { bar: true, color: true, width: 30 });
    expect(cut.split(`${ESC}0m`).join('').split(`${ESC}1m`).join('').split(`${ESC}36m`).join('')).toHaveLength(29);
    expect(cut.endsWith(`…${ESC}0m`)).toBe(true);
  });

  it('without a total: no percentage and no ETA; a stalled run: ETA unknown', () => {
    expect(formatProgressLine({ stage: 'import', unit: 'lines', done: 10, elapsedMs: 500, startDone: 0 }, { bar: true, color: false })).toBe('import 10 lines · 20.0 lines/s');
    expect(formatProgressLine({ stage: 'score', unit: 'sides', done: 4, total: 10, elapsedMs: 5000, startDone: 4 }, { bar: false, color: false })).toBe('score 4/10 sides 40% · 0.0 sides/s · ETA ?');
    expect(rateAndEta({ done: 10, total: 10, elapsedMs: 100, startDone: 0 }).etaMs).toBe(0);
  });

  it('counts in the unit the stage gives (bytes as MB)', () => {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    expect(formatProgressLine({ stage: 'import a.jsonl', unit: 'MB', done: 3e6, total: 12e6, elapsedMs: 2000, startDone: 0, format: mb }, { bar: false, color: false })).toBe(
      'import a.jsonl 3.0/12.0 MB 25% · 1.5 MB/s · ETA 6s',
    );
  });

  it('durations', () => {
    expect([formatDuration(400), formatDuration(45_000), formatDuration(192_000), formatDuration(3_840_000)]).toEqual(['0s', '45s', '3m12s', '1h04m']);
  });
});

describe('progress reporter', () => {
  it('on a terminal: redraws in place at most every 100 ms, clears the line at the end', () => {
    const s = sink(true);
    const c = clock();
    const r = new ProgressReporter({ stream: s, now: c.now, noColor: true });
    r.stage('targets', 'solutions');
    r.update({ done: 0, total: 4 });
    c.advance(50);
    r.update({ done: 1, total: 4 }); // too soon: not drawn
    c.advance(60);
    r.update({ done: 2, total: 4 });
    r.update({ done: 4, total: 4 }); // the last one is always drawn
    r.end();
    const frames = s.text.split('\r\x1b[2K').filter(Boolean);
    expect(frames.map((f) => f.split(' ').slice(2, 3)[0])).toEqual(['0/4', '2/4', '4/4']);
    expect(s.text.endsWith('\r\x1b[2K')).toBe(true);
    expect(s.text).not.toContain('\n');
  });

  it('without a terminal: a plain line every few seconds, the first after a while, and one when the stage ends', () => {
    const s = sink(false);
    const c = clock();
    const r = new ProgressReporter({ stream: s, now: c.now, plainEveryMs: 5000 });
    r.stage('exec', 'candidates');
    for (let i = 1; i <= 12; i++) {
      c.advance(1000);
      r.update({ done: i, total: 12 });
    }
    r.end();
    expect(s.text.split('\n').filter(Boolean)).toEqual([
      'exec 5/12 candidates 41% · 1.0 candidates/s · ETA 7s',
      'exec 10/12 candidates 83% · 1.0 candidates/s · ETA 2s',
      'exec 12/12 candidates 100% · 1.0 candidates/s · 12s',
    ]);
    expect(s.text).not.toContain('\x1b');
    // A stage too short for a line leaves none.
    const quick = sink(false);
    const q = new ProgressReporter({ stream: quick, now: clock().now });
    q.stage('pairs', 'targets');
    q.update({ done: 3, total: 3 });
    q.end();
    expect(quick.text).toBe('');
  });

  it('--quiet prints no progress, but log lines still go out', () => {
    const s = sink(true);
    const r = new ProgressReporter({ stream: s, quiet: true, now: clock().now });
    r.stage('sample job 1', 'samples');
    r.update({ done: 1, total: 2 });
    r.log('sample: endpoint http://a is down');
    r.end();
    expect(s.text).toBe('sample: endpoint http://a is down\n');
  });

  it('NO_COLOR (set and not empty) turns colours off on a terminal', () => {
    const saved = process.env.NO_COLOR;
    try {
      for (const [value, coloured] of [['1', false], ['', true], [undefined, true]] as const) {
        if (value === undefined) delete process.env.NO_COLOR;
        else process.env.NO_COLOR = value;
        const s = sink(true);
        const r = new ProgressReporter({ stream: s, now: clock().now });
        r.stage('score run 1', 'sides');
        r.update({ done: 1, total: 2, errors: 1 });
        expect(s.text.includes(`${ESC}31m`), `NO_COLOR=${String(value)}`).toBe(coloured);
        expect(s.text).toContain('\r\x1b[2K'); // still redrawn in place
      }
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it('a logged line goes above the live line, which is drawn again', () => {
    const s = sink(true);
    const c = clock();
    const r = new ProgressReporter({ stream: s, now: c.now, noColor: true });
    r.stage('exec', 'candidates');
    r.update({ done: 1, total: 3 });
    r.log('engine: worker 2 restarted');
    expect(s.text).toBe('\r\x1b[2Kexec [#######.............] 1/3 candidates 33%\r\x1b[2Kengine: worker 2 restarted\n\r\x1b[2Kexec [#######.............] 1/3 candidates 33%');
  });
});

// `pairforge blocks` on big inputs, through the bundled CLI: output written with back-pressure
// (a reader that does not read holds the writer, whose memory stays bounded), a reader that goes
// away ends it quietly, and --offsets gives each middle as offsets into the code written once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli } from '../../support/cliHarness';

let cli: string;
let dir: string;
let big: string;
/** Blocks x code size of `big`: what --jsonl has to write. */
let outputChars = 0;

beforeAll(async () => {
  cli = await buildCli();
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-blocks-out-'));
  big = path.join(dir, 'big.py');
  const parts: string[] = [];
  for (let i = 0; i < 6000; i++) parts.push(`def f${i}(xs):\n    t = 0\n    for x in xs:\n        if x > ${i % 7}:\n            t += x\n    return t\n\n`);
  const code = parts.join('');
  writeFileSync(big, code);
  // 3 blocks per function, each line holding the whole code: about 6 GB of --jsonl output
  outputChars = 3 * 6000 * code.length;
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.dirname(cli), { recursive: true, force: true });
});

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

describe('pairforge blocks on a big input', () => {
  it('waits for a reader that does not read: its memory stays bounded while gigabytes are pending', async () => {
    expect(outputChars).toBeGreaterThan(4e9);
    const child = spawn(process.execPath, [cli, 'blocks', big, '--jsonl'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      // wait for the first bytes: the file is cut and writing has begun
      const first = await new Promise<Buffer>((resolve, reject) => {
        child.stdout.once('data', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      expect(first.length).toBeGreaterThan(0);
      child.stdout.pause();
      // Unheld, the writer would queue a whole line (~2.5 MB) per block: gigabytes within seconds.
      let peak = 0;
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, 100));
        peak = Math.max(peak, rssKb(child.pid!));
      }
      expect(peak).toBeLessThan(600 * 1024);
      expect(child.exitCode).toBeNull();
      expect(stderr).toMatch(/--offsets writes the code once/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('ends quietly (exit 0, no error) when the reader goes away', async () => {
    const child = spawn(process.execPath, [cli, 'blocks', big, '--jsonl'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  }, 120_000);
});

describe('--offsets', () => {
  it('writes the code once per file; each block\'s middle is code[start:end] in characters', () => {
    const f = path.join(dir, 'small.py');
    // a character outside the BMP: offsets count it once, as Python's str does
    writeFileSync(f, 's = "😀"\nfor i in range(3):\n    if i:\n        print(i, s)\nwhile False:\n    pass\n');
    for (const preset of ['structurecoder', 'clean']) {
      const texts = runCli(cli, ['blocks', f, '--jsonl', '--preset', preset]);
      const offs = runCli(cli, ['blocks', f, '--jsonl', '--offsets', '--preset', preset]);
      expect(offs.status).toBe(0);
      const [head, ...rows] = offs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(Object.keys(head)).toEqual(['file', 'code']);
      const code = [...(head.code as string)];
      const full = texts.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.map((r) => Object.keys(r))).toEqual(full.map(() => ['file', 'type', 'depth', 'start_line', 'end_line', 'start', 'end']));
      rows.forEach((r, i) => {
        expect(code.slice(r.start as number, r.end as number).join('')).toBe(full[i].mid);
        expect([r.type, r.start_line, r.end_line]).toEqual([full[i].type, full[i].start_line, full[i].end_line]);
      });
    }
    expect(runCli(cli, ['blocks', f, '--offsets']).status).toBe(2);
  }, 60_000);
});

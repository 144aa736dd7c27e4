// Black formatting of targets (the optional `--black` of `targets`): runs the real `black`.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatWithBlack } from '../../../server/blocks/cut';

describe('formatWithBlack', () => {
  const hasBlack = spawnSync('black', ['--version']).status === 0;
  it('without black on PATH: a clear error', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(formatWithBlack('x=1\n')).rejects.toThrow(/black is not installed/);
    } finally {
      process.env.PATH = saved;
    }
  });
  it.runIf(hasBlack)('formats like `black --fast` and normalises line endings', async () => {
    expect(await formatWithBlack("x=1\r\nif x :\r\n  y='a'\r\n")).toBe('x = 1\nif x:\n    y = "a"\n');
    await expect(formatWithBlack('def (:\n')).rejects.toThrow(/black could not format/);
  });
});

// `pairforge blocks`: the target blocks of Python files, as text or JSON lines.
//
// Output is written with back-pressure: when stdout (a pipe, a slow disk) has no room, cutting
// waits, so memory stays bounded whatever the size of the output. Each --jsonl line carries the
// whole cut code (pre + mid + suf), so a big file with many blocks makes a very large output;
// --offsets writes the code once per file and only offsets per block.
import { once } from 'node:events';
import { EXIT_BAD_INPUT, EXIT_OK, UsageError, err, extraKindsOf, parseArgs, presetOf, requireFiles, showHelp, stdoutClosed, type Command } from '../cli/kit';
import { closeBlockWorkers, extractFiles } from './batch';
import type { Target } from './types';

const HELP = `usage: pairforge blocks FILE.py... [--preset structurecoder|clean] [--extra-kinds K,...] [--jsonl|--json] [--offsets]

Prints the fill-in-the-middle target blocks of Python files, files in argument order, blocks in
source order. Lines are 1-based and inclusive, in the code that was cut (for structurecoder the
comment-stripped, stripped code, exactly as the published pipeline cuts it).

  --preset P            structurecoder (default) | clean
  --extra-kinds K,...   clean only: also async_def, with, try, class
  --jsonl               one JSON object per block:
                        {"file","type","depth","start_line","end_line","pre","mid","suf"}
  --json                one JSON array of those objects
  --offsets             with --jsonl / --json: no texts per block; per file first
                        {"file","code"} (the code that was cut), then per block
                        {"file","type","depth","start_line","end_line","start","end"}, where
                        mid = code[start:end] and pre / suf are what comes before / after
                        (offsets in characters, as Python indexes a str). For big inputs: each
                        block's texts hold the whole file

A file that does not parse is reported on stderr; the others are still processed (exit 1).`;

/** Above this many characters of --jsonl output for one file, suggest --offsets on stderr. */
const BIG_OUTPUT_CHARS = 256 * 1024 * 1024;

/** stdout with back-pressure; stops quietly when the reader goes away (EPIPE: `| head`). */
class Output {
  private gone = false;
  get closed(): boolean {
    return this.gone || stdoutClosed();
  }
  async write(text: string): Promise<void> {
    if (this.closed) return;
    if (process.stdout.write(text)) return;
    try {
      await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'close')]);
    } catch (e) {
      // once() rejects on the stream's 'error': the reader went away
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      this.gone = true;
    }
  }
}

/** Code-point offsets of each line's start in `code` (plus one past the end): a block's middle
 * spans whole lines, so its offsets come from these in one pass over the code. */
export function lineStartOffsets(code: string): number[] {
  const starts = [0];
  let cp = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    // a surrogate pair is one character (one code point)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < code.length) {
      const d = code.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    cp++;
    if (c === 0x0a) starts.push(cp);
  }
  starts.push(cp + 1);
  return starts;
}

/** [start, end) of a target's middle in the cut code, in code points. */
export function middleOffsets(starts: readonly number[], t: Pick<Target, 'startLine' | 'endLine'>): [number, number] {
  // end: the start of the next line minus its "\n" (or the end of the code for the last line)
  return [starts[t.startLine], starts[t.endLine + 1] - 1];
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('blocks', argv, { values: ['preset', 'extra-kinds'], flags: ['jsonl', 'json', 'offsets'] });
  if (a.flags.has('help')) return showHelp(HELP);
  const preset = presetOf('blocks', a);
  const extraKinds = extraKindsOf('blocks', a, preset);
  const jsonl = a.flags.has('jsonl');
  const json = a.flags.has('json');
  const offsets = a.flags.has('offsets');
  if (json && jsonl) throw new UsageError('blocks: give --jsonl or --json, not both');
  if (offsets && !json && !jsonl) throw new UsageError('blocks: --offsets goes with --jsonl or --json');
  requireFiles('blocks', a.positionals, 'Python files');
  const output = new Output();
  let status = EXIT_OK;
  let first = true;
  /** One JSON value: a line of --jsonl, an element of the streamed --json array. */
  const emit = async (value: unknown): Promise<void> => {
    if (output.closed) return;
    const text = JSON.stringify(value);
    if (!json) return output.write(`${text}\n`);
    const sep = first ? '[' : ',';
    first = false;
    return output.write(`${sep}${text}`);
  };
  // Files are cut on worker threads (one per core, at most 4) and reported in argument order.
  await extractFiles(a.positionals, { preset, ...(extraKinds ? { extraKinds } : {}) }, async (r) => {
    const { file } = r;
    if (output.closed) return;
    if (r.error !== undefined) {
      err(r.unreadable ? r.error : `${file}: does not parse: ${r.error}`);
      status = EXIT_BAD_INPUT;
      return;
    }
    // structurecoder emits post-order (inner blocks first); print in source order, outer first.
    const targets = [...r.targets].sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
    const where = (t: Target) => ({ file, type: t.kind, depth: t.depth, start_line: t.startLine + 1, end_line: t.endLine + 1 });
    if (offsets) {
      await emit({ file, code: r.code });
      const starts = lineStartOffsets(r.code);
      for (const t of targets) {
        if (output.closed) break;
        const [start, end] = middleOffsets(starts, t);
        await emit({ ...where(t), start, end });
      }
      return;
    }
    if (jsonl || json) {
      if (targets.length * r.code.length > BIG_OUTPUT_CHARS) {
        err(`${file}: ${targets.length} blocks, each line holding the whole ${Math.round(r.code.length / 1024)} KiB of code: about ${Math.round((targets.length * r.code.length) / 1024 ** 3)} GiB of output; --offsets writes the code once`);
      }
      for (const t of targets) {
        if (output.closed) break;
        await emit({ ...where(t), pre: t.pre, mid: t.mid, suf: t.suf });
      }
      return;
    }
    for (const t of targets) {
      if (output.closed) break;
      await output.write(`${file}:${t.startLine + 1}-${t.endLine + 1}: ${t.kind} depth ${t.depth}\n`);
    }
  });
  await closeBlockWorkers();
  if (json) await output.write(first ? '[]\n' : ']\n');
  return status;
}

export const blocksCommand: Command = {
  name: 'blocks',
  summary: 'blocks FILE.py... [--preset P]        print the target blocks of Python files',
  help: HELP,
  run,
};

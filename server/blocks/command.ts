// `pairforge blocks`: the target blocks of Python files, as text or JSON lines.
import { EXIT_BAD_INPUT, EXIT_OK, UsageError, err, extraKindsOf, out, parseArgs, presetOf, requireFiles, showHelp, type Command } from '../cli/kit';
import { closeBlockWorkers, extractFiles } from './batch';

const HELP = `usage: pairforge blocks FILE.py... [--preset structurecoder|clean] [--extra-kinds K,...] [--jsonl|--json]

Prints the fill-in-the-middle target blocks of Python files, files in argument order, blocks in
source order. Lines are 1-based and inclusive, in the code that was cut (for structurecoder the
comment-stripped, stripped code, exactly as the published pipeline cuts it).

  --preset P            structurecoder (default) | clean
  --extra-kinds K,...   clean only: also async_def, with, try, class
  --jsonl               one JSON object per block:
                        {"file","type","depth","start_line","end_line","pre","mid","suf"}
  --json                one JSON array of those objects

A file that does not parse is reported on stderr; the others are still processed (exit 1).`;

interface BlockLine {
  file: string;
  type: string;
  depth: number;
  start_line: number;
  end_line: number;
  pre: string;
  mid: string;
  suf: string;
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('blocks', argv, { values: ['preset', 'extra-kinds'], flags: ['jsonl', 'json'] });
  if (a.flags.has('help')) return showHelp(HELP);
  const preset = presetOf('blocks', a);
  const extraKinds = extraKindsOf('blocks', a, preset);
  if (a.flags.has('json') && a.flags.has('jsonl')) throw new UsageError('blocks: give --jsonl or --json, not both');
  requireFiles('blocks', a.positionals, 'Python files');
  let status = EXIT_OK;
  const all: BlockLine[] = [];
  // Files are cut on worker threads (one per core, at most 4) and reported in argument order.
  await extractFiles(a.positionals, { preset, ...(extraKinds ? { extraKinds } : {}) }, (r) => {
    const { file } = r;
    if (r.error !== undefined) {
      err(r.unreadable ? r.error : `${file}: does not parse: ${r.error}`);
      status = EXIT_BAD_INPUT;
      return;
    }
    // structurecoder emits post-order (inner blocks first); print in source order, outer first.
    const targets = [...r.targets].sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
    for (const t of targets) {
      const line: BlockLine = { file, type: t.kind, depth: t.depth, start_line: t.startLine + 1, end_line: t.endLine + 1, pre: t.pre, mid: t.mid, suf: t.suf };
      if (a.flags.has('jsonl')) out(JSON.stringify(line));
      else if (a.flags.has('json')) all.push(line);
      else out(`${file}:${line.start_line}-${line.end_line}: ${t.kind} depth ${t.depth}`);
    }
  });
  await closeBlockWorkers();
  if (a.flags.has('json')) out(JSON.stringify(all));
  return status;
}

export const blocksCommand: Command = {
  name: 'blocks',
  summary: 'blocks FILE.py... [--preset P]        print the target blocks of Python files',
  help: HELP,
  run,
};

// `pairforge targets`: every stored reference solution cut into FIM targets.
import { EXIT_INTERRUPTED, EXIT_OK, PROGRESS_FLAGS, QUIET_HELP, UsageError, dbOf, extraKindsOf, interruptSignal, out, parseArgs, presetOf, progressOf, showHelp, type Command } from '../cli/kit';
import { openProject } from '../store/db';
import { cutAllTargets } from './cutAll';

const HELP = `usage: pairforge targets --db PROJECT.sqlite [--preset structurecoder|clean] [--extra-kinds K,...] [--black] [--whole-programs] [--json]

Cuts every stored reference solution into FIM targets and stores them. Solutions already cut
under the same options are skipped, so an interrupted run can simply be re-run.
Solutions over 2048 whitespace-separated words are skipped; ones that do not parse are recorded.

  --preset P            structurecoder (default) | clean
  --extra-kinds K,...   clean only: also async_def, with, try, class
  --black               format each solution with Black first (needs \`black\` on PATH)
  --whole-programs      also store one whole-program target per solution cut (kind 'program',
                        empty prefix and suffix; sampled with the chat prompt, paired as 'full');
                        solutions cut before without it get theirs too
  --json                print the counts as JSON
${QUIET_HELP}`;

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('targets', argv, { values: ['db', 'preset', 'extra-kinds'], flags: ['black', 'whole-programs', 'json', ...PROGRESS_FLAGS] });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('targets', a, true);
  const preset = presetOf('targets', a);
  const extraKinds = extraKindsOf('targets', a, preset);
  if (a.positionals.length > 0) throw new UsageError(`targets: unexpected argument ${a.positionals[0]}`);
  const signal = interruptSignal();
  const progress = progressOf(a);
  progress.stage('targets', 'solutions');
  const p = openProject(db);
  try {
    const s = await cutAllTargets(p, {
      preset,
      ...(extraKinds ? { extraKinds } : {}),
      black: a.flags.has('black'),
      wholePrograms: a.flags.has('whole-programs'),
      signal,
      onProgress: (done, total) => progress.update({ done, total }),
    });
    progress.end();
    if (a.flags.has('json')) out(JSON.stringify(s));
    else {
      out(
        `${s.preset}: ${s.cut} solutions cut (${s.alreadyCut} already cut before, ${s.solutions} in the project): ` +
          `${s.ok} ok, ${s.unparsed} do not parse, ${s.tooLong} over 2048 words, ${s.formatFailed} Black failed; ${s.targets} targets stored` +
          (a.flags.has('whole-programs') ? `, ${s.programs} whole-program targets stored` : ''),
      );
      if (s.cancelled) out('interrupted: solutions already cut are kept; run the same command again to finish');
    }
    return s.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
  } finally {
    p.close();
  }
}

export const targetsCommand: Command = {
  name: 'targets',
  summary: 'targets --db PROJECT.sqlite           cut every stored reference solution into FIM targets',
  help: HELP,
  run,
};

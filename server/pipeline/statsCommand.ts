// `pairforge stats`: counts of what a project holds, every stage's.
import { EXIT_OK, UsageError, dbOf, out, parseArgs, showHelp, type Command } from '../cli/kit';
import { executionStats, isolationLabel } from '../exec/store';
import { openProject } from '../store/db';
import { cutStats } from '../targets/cutAll';
import { projectStats } from './stats';

const HELP = `usage: pairforge stats --db PROJECT.sqlite [--json]

Prints how many datasets, problems, tests, solutions, histories, versions, targets, samples,
executions and pairs the project holds, how many pairs are scored (both sides, in at least one
scoring run: scoredPairs), per preset how the cut solutions fared, and the stored verdicts per
comparator with the sandbox mode they were reached in (bwrap-nobody, bwrap-root, bwrap-user, none).`;

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('stats', argv, { values: ['db'], flags: ['json'] });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('stats', a, true);
  if (a.positionals.length > 0) throw new UsageError(`stats: unexpected argument ${a.positionals[0]}`);
  const p = openProject(db);
  try {
    const stats = projectStats(p);
    const cuts = cutStats(p);
    // Verdicts (attempt 0) per comparator and flaky candidates (server/exec/store.ts).
    const { verdicts, flaky, isolation } = executionStats(p);
    if (a.flags.has('json')) out(JSON.stringify({ ...stats, cuts, verdicts, flaky, isolation }));
    else {
      out(`${p.file}`);
      for (const [k, v] of Object.entries(stats)) out(`  ${k.padEnd(10)} ${v}`);
      for (const c of cuts) {
        out(`  targets under ${c.preset}: ${c.targets} from ${c.solutions} solutions (${c.ok} ok, ${c.unparsed} do not parse, ${c.tooLong} too long, ${c.formatFailed} Black failed)`);
      }
      for (const [comparator, c] of Object.entries(verdicts)) {
        out(`  verdicts (${comparator}): ${Object.entries(c).map(([k, v]) => `${v} ${k}`).join(', ')}${flaky ? `; ${flaky} flaky` : ''}`);
      }
      // Which sandbox mode the stored verdicts were reached in (docs/execution.md, "Isolation").
      const modes = Object.entries(isolation) as [Parameters<typeof isolationLabel>[0], number][];
      if (modes.length) out(`  sandbox:   ${modes.map(([m, n]) => `${n} ${isolationLabel(m)}`).join(', ')}`);
    }
    return EXIT_OK;
  } finally {
    p.close();
  }
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'stats --db PROJECT.sqlite             counts of what a project holds',
  help: HELP,
  run,
};

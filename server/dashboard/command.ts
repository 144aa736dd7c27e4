// `pairforge report`: the dashboard's figures as one self-contained HTML file to share (no network:
// it opens offline in any browser), and with --json the numbers behind them.
import { writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { EXIT_OK, UsageError, choiceOption, dbOf, err, out, parseArgs, showHelp, type Command } from '../cli/kit';
import { COMPARATORS, type Comparator } from '../protocol';
import { openProject } from '../store/db';
import { dashboardData } from './data';
import { reportAssets, reportHtml } from './report';

const HELP = `usage: pairforge report --db PROJECT.sqlite [--out REPORT.html] [--json] [--comparator strict|apps]

Writes the dashboard's figures into one HTML file that holds everything it shows (the charts'
code and the numbers; it loads nothing, so it opens offline and can be sent as is): the funnel
from problems to training, the pass rate by block kind and depth, the verdicts per sampling job
and model, samples per target, pairs by kind, block kind and depth, filter flags, the review's
progress, the reward margins per scoring run (before/after training laid over each other), and
the references that fail their own tests and the flaky candidates. Every chart has PNG and SVG
buttons. See docs/dashboard.md.

  --out FILE        the HTML file (default: <project>-report.html beside the project)
  --json            print the numbers behind the charts to stdout as JSON (with --out, the HTML
                    file is written too)
  --comparator C    whose verdicts count: strict (default) | apps`;

/** `<project name>-report.html` beside the project. */
export function defaultReportFile(db: string): string {
  const abs = path.resolve(db);
  return path.join(path.dirname(abs), `${path.basename(abs).replace(/\.(sqlite3?|db)$/i, '')}-report.html`);
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs('report', argv, { values: ['db', 'out', 'comparator'], flags: ['json'] });
  if (a.flags.has('help')) return showHelp(HELP);
  const db = dbOf('report', a, true);
  if (a.positionals.length > 0) throw new UsageError(`report: unexpected argument ${a.positionals[0]} (the file goes after --out)`);
  const comparator = choiceOption<Comparator>('report', a, 'comparator', COMPARATORS) ?? 'strict';
  const json = a.flags.has('json');
  const file = a.values.get('out') ?? (json ? undefined : defaultReportFile(db));
  // The page is read first: a missing build fails before any work.
  const assets = file ? reportAssets() : undefined;
  const p = openProject(db);
  try {
    const data = dashboardData(p, { comparator });
    if (file && assets) {
      const html = reportHtml(data, assets);
      const abs = path.resolve(file);
      // Through a temporary name: an interrupted write never leaves half a report under the name.
      const tmp = `${abs}.tmp-${process.pid}`;
      writeFileSync(tmp, html);
      renameSync(tmp, abs);
      err(`report: wrote ${abs} (${Math.round(Buffer.byteLength(html) / 1024)} KB; figures computed in ${data.computeMs} ms)`);
    }
    if (json) out(JSON.stringify(data));
    return EXIT_OK;
  } finally {
    p.close();
  }
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'report --db P [--out F.html] [--json]  the dashboard as one self-contained HTML file',
  help: HELP,
  run,
};

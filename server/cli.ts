// The headless CLI over the engine: `pairforge <command>` (README "The pipeline from the command line"); the commands are listed
// in server/cli/commands.ts and live in their stage folders.
//
// Exit status: 0 ok, 1 some input was bad (bad dataset lines, Python files that do not parse),
// 2 usage or fatal error (unknown option, missing file, unreadable project), 130 interrupted.
// Machine output goes to stdout; progress, bad lines and errors to stderr.
import { COMMANDS } from './cli/commands';
import { EXIT_OK, EXIT_USAGE, UsageError, err, out, watchStdout } from './cli/kit';

function mainHelp(): string {
  return `pairforge — build and inspect code preference pairs (StructureCoder, IterPref)

usage: pairforge <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.summary}`).join('\n')}

Run 'pairforge <command> --help' for a command's options.
Exit status: 0 ok, 1 some input was bad, 2 usage or fatal error, 130 interrupted.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    out(name === 'help' && topic ? topic.help : mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    err(`pairforge: unknown command '${name}' (one of ${COMMANDS.map((c) => c.name).join(', ')}; see pairforge --help)`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // Usage errors already start with the command's name ("import: --db ... is required").
    if (e instanceof UsageError) err(`pairforge ${e.message}`);
    else err(`pairforge ${name}: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}

watchStdout();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`pairforge: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = EXIT_USAGE;
  },
);

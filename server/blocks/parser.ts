// Loads the web-tree-sitter runtime and the Python grammar once per process (or worker thread).
// The .wasm files sit beside the running bundle (dist/) in the built extension; when the TS
// sources run directly (vitest) they are resolved from node_modules instead.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';

export interface PythonGrammar {
  language: Language;
  /** A fresh parser set to Python. The caller owns it and must `.delete()` it when done. */
  newParser(): Parser;
}

/** The first existing file among `dist/<name>` (beside this bundle) and the node_modules copy. */
function locateWasm(name: string, packageSpecifier: string): string {
  const besideBundle = path.join(__dirname, name);
  if (existsSync(besideBundle)) return besideBundle;
  try {
    return require.resolve(packageSpecifier);
  } catch {
    throw new Error(
      `tree-sitter: cannot find ${name}: looked in ${__dirname} and for ${packageSpecifier} in node_modules (run \`npm run build\` or \`npm install\`)`,
    );
  }
}

let loading: Promise<PythonGrammar> | undefined;

/** Memoised: the runtime and the grammar are compiled once per thread. */
export function loadPython(): Promise<PythonGrammar> {
  loading ??= (async () => {
    const runtime = locateWasm('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtime });
    const language = await Language.load(locateWasm('tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'));
    return {
      language,
      newParser() {
        const parser = new Parser();
        parser.setLanguage(language);
        return parser;
      },
    };
  })();
  // A failed load is not cached, so a later call (after the files appear) can succeed.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

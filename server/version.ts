// The PairForge version, put into the bundles at build time (scripts/bundle.mjs `define`, and
// vitest.config.mts for tests run from source), so no bundle carries the whole package.json.
declare const PAIRFORGE_VERSION: string | undefined;

export const VERSION: string = typeof PAIRFORGE_VERSION === 'string' ? PAIRFORGE_VERSION : 'dev';

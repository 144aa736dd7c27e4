#!/usr/bin/env node
// The review room's latency on a project of many scored pairs (the figures of docs/review.md):
//
//   npm run build && node scripts/bench/review-latency.mjs --pairs 100000 --json
//
// Bundles review-latency-run.ts (the engine, the stores and the room's host, in one process) with
// the engine's runtime files beside it, and runs it. Chromium is Debian's (/usr/bin/chromium, or
// PAIRFORGE_CHROMIUM). The last line of stdout is a JSON object: next_pair_p95_ms (key press to the
// next pair painted; goal <= 50), heatmap_2k_tokens_ms (goal <= 16), search_p95_ms (goal <= 200).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { copyRuntimeAssets, nodeBundle, root } from '../bundle.mjs';

const out = path.join(root, 'node_modules', '.cache', 'pairforge-bench');
copyRuntimeAssets(out);
await esbuild.build({ ...nodeBundle, entryPoints: [path.join(root, 'scripts/bench/review-latency-run.ts')], outfile: path.join(out, 'review-latency.cjs'), external: ['playwright-core'] });
const r = spawnSync(process.execPath, [path.join(out, 'review-latency.cjs'), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, PAIRFORGE_ROOT: root } });
process.exit(r.status ?? 1);

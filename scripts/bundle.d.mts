import type { BuildOptions } from 'esbuild';
export const root: string;
export const nodeBundle: BuildOptions;
export function copyRuntimeAssets(dir: string): void;
export function copyTrainer(dir: string): void;

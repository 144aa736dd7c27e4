import type { BuildOptions } from 'esbuild';
export const root: string;
export const nodeBundle: BuildOptions;
export const browserBundle: BuildOptions;
export function copyRuntimeAssets(dir: string): void;
export function copyTrainer(dir: string): void;

export const APT_LOCKS: string[];
export interface ProcLock {
  type: string;
  pid: number;
  major: number;
  minor: number;
  inode: number;
}
export function parseProcLocks(text: string): ProcLock[];
export function heldBy(files: { file: string; inode: number; major: number; minor: number }[], locks: ProcLock[]): { file: string; pid: number }[];
export function heldAptLocks(): { file: string; pid: number; command?: string }[];
export function waitForAptLocks(opts?: { log?: (m: string) => void; timeoutMs?: number; pollMs?: number }): void;
export function aptGet(args: string[], opts?: { log?: (m: string) => void; env?: NodeJS.ProcessEnv; attempts?: number }): number;
export function ensurePackages(needs: { pkg: string; present: () => boolean }[], o: { purpose: string; log?: (m: string) => void; noServices?: boolean }): string | undefined;
export function aptInstall(packages: string[], opts?: { log?: (m: string) => void; noServices?: boolean }): boolean;

// Types for launch.mjs (imported by the e2e test).
export declare const baseUserSettings: Record<string, unknown>;
export declare function freePort(): Promise<number>;
export declare function installExtension(o: { vsix: string; userDataDir: string; extensionsDir: string }): string;
export declare function writeUserSettings(userDataDir: string, settings?: Record<string, unknown>): void;
export interface RunningCodeServer {
  url: string;
  folderUrl: string;
  port: number;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal) when code-server ends. */
  exited: Promise<number | string | null>;
  stop(): Promise<void>;
}
export declare function launchCodeServer(o: {
  port?: number;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  settings?: Record<string, unknown>;
  vsix?: string;
  logFile?: string;
  timeoutMs?: number;
}): Promise<RunningCodeServer>;

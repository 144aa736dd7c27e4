// Types for demo-gpu.mjs (imported by test/integration/scripts/demoGpu.test.ts).
export declare const DEMO_GPU_ALIAS: string;
export declare const demoGpuDir: string;
export interface DemoGpu {
  alias: string;
  dir: string;
  hostKey: string;
  clientKey: string;
  authorizedKeys: string;
  sshdConfig: string;
  pidFile: string;
  log: string;
  sshConfig: string;
  knownHosts: string;
  runs: string;
  port: number;
  user: string;
  pid: number;
  /** Stops the runs still going (SIGTERM to their wrappers), the connections, then the server; returns the stopped runs' folder names. */
  stop(): string[];
}
export declare function demoTrainingSettings(gpu: { alias: string; sshConfig: string; runs: string }, python: string): Record<string, string | boolean>;
export declare function ensureDemoGpuPackages(opts?: { log?: (m: string) => void }): string | undefined;
/** Whether `pid` runs (a zombie counts as ended). */
export declare function alive(pid: number): boolean;
export declare function runningRuns(runs: string): [number, string][];
export declare function startDemoGpu(o?: { dir?: string; port?: number; log?: (m: string) => void }): Promise<DemoGpu>;

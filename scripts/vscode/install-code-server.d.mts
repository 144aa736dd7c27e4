// Types for install-code-server.mjs (imported by the e2e test).
export declare const CODE_SERVER_VERSION: string;
export declare const repoRoot: string;
export declare const installDir: string;
export declare const codeServerEntry: string;
export declare function codeServerInstalled(): boolean;
export declare function ensureCodeServer(opts?: { force?: boolean; log?: (msg: string) => void }): string;

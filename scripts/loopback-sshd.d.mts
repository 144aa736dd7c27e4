// Types for loopback-sshd.mjs (imported by test/support/sshd.ts).
export declare const SSHD: string;
export declare function configPath(p: string): string;
export declare function makeKeyPair(file: string, comment: string): void;
export declare function publicKey(file: string): string;
export declare function sshdConfigText(o: { port: number; hostKey: string; pidFile: string; authorizedKeys: string; user: string }): string;
export declare function sshHostBlock(o: { alias: string; port: number; user: string; identityFile: string; knownHosts: string }): string;
export declare function knownHostsLine(port: number, key: string): string;

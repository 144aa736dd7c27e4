// The local vLLM-compatible stand-in server (tests, benchmarks, the offline demo): start it with
// startLocalVllm, or from the CLI with `pairforge serve-local`. Never a default endpoint.
export { DEFAULT_MAX_MODEL_LEN, DEFAULT_MODEL_NAME, POLICY_MODEL_NAME, REFERENCE_MODEL_NAME, SCORING_MODELS, startLocalVllm, type LocalVllm, type LocalVllmOptions, type LocalVllmStats } from './server';
export { faultSpec, parseFaultSpec, type FaultKind, type FaultPlan } from './faults';
export { serveLocalArgs, spawnLocalVllm, type LocalVllmProcess, type SpawnOptions } from './process';
export type { Mix } from './model';
export type { NgramOptions, Smoothing } from './ngram';
export type { TokenizerKind } from './tokenizer';

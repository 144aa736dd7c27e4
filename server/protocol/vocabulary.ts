// The domain vocabulary: the names every side uses for the same things (block kinds, verdicts,
// review statuses, prompt families, ...), each written once here. The editor, the engine's stages,
// the CLI and the webviews import it from here; nothing here imports anything else of ours.
// Pure data: no I/O, no Node or VS Code API.

// ---- blocks and targets -------------------------------------------------------------------------

/** Which rules decide the target blocks (docs/published.md "StructureCoder"; docs/datasets.md "Presets"). */
export type Preset = 'structurecoder' | 'clean';
export const PRESETS: readonly Preset[] = ['structurecoder', 'clean'];

/** `structurecoder` only ever yields the first four; `clean` may add the others when asked. */
export type BlockKind = 'if' | 'for' | 'while' | 'def' | 'async_def' | 'with' | 'try' | 'class';
export const CORE_KINDS: readonly BlockKind[] = ['if', 'for', 'while', 'def'];
export const EXTRA_KINDS: readonly BlockKind[] = ['async_def', 'with', 'try', 'class'];

/** `targets.kind` of a whole-program target (`pairforge targets --whole-programs`): depth 0,
 * `pre` and `suf` empty, `mid` the whole prepared code. Not a block: the editor shows no lens for
 * it, and it is always sampled with the chat prompt (docs/published.md "StructureCoder"). */
export const PROGRAM_KIND = 'program';
/** What a `targets.kind` holds: a block kind, or PROGRAM_KIND. */
export type TargetKind = BlockKind | typeof PROGRAM_KIND;

// ---- datasets -----------------------------------------------------------------------------------

/** Dataset formats the importer understands (docs/datasets.md). */
export type DatasetFormat = 'apps' | 'humaneval' | 'mbpp' | 'history';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['apps', 'humaneval', 'mbpp', 'history'];

/**
 * How a stored test runs (`tests.kind`):
 * - stdio: `input` is stdin, `expected` the expected stdout;
 * - call: `input` is a JSON list of arguments, `expected` a JSON value, `fn_name` the function;
 * - humaneval: `code` defines check(candidate), `fn_name` is the entry point;
 * - assert: `code` holds assert statement(s); `setup` runs before them.
 */
export type TestKind = 'stdio' | 'call' | 'humaneval' | 'assert';
export const TEST_KINDS: readonly TestKind[] = ['stdio', 'call', 'humaneval', 'assert'];

/** URI scheme of solutions and history versions stored in a project, opened read-only. */
export const STORE_SCHEME = 'pairforge';

// ---- execution ----------------------------------------------------------------------------------

export type Verdict = 'pass' | 'wrong_answer' | 'runtime_error' | 'timeout' | 'memory_limit' | 'output_limit' | 'compile_error';

/** Every verdict in a fixed order: the keys of a JSON summary. */
export const VERDICTS: readonly Verdict[] = ['pass', 'wrong_answer', 'runtime_error', 'timeout', 'memory_limit', 'output_limit', 'compile_error'];

/**
 * How bad a verdict is, from best to worst: a candidate's verdict is its worst test's. The order
 * goes by how far the program got: it ran and printed something wrong (wrong_answer); it ran but
 * flooded its output (output_limit); it crashed (runtime_error); it exhausted memory
 * (memory_limit) or time (timeout), which cut it off before it could finish at all; it never ran
 * (compile_error: every test fails the same way).
 */
export const VERDICT_SEVERITY: readonly Verdict[] = ['pass', 'wrong_answer', 'output_limit', 'runtime_error', 'memory_limit', 'timeout', 'compile_error'];

/** How stdin/stdout output is compared with the expected text (docs/execution.md "Comparators"). */
export type Comparator = 'strict' | 'apps';
export const COMPARATORS: readonly Comparator[] = ['strict', 'apps'];

/**
 * How an engine's workers are isolated (docs/execution.md, "Isolation"), strongest first:
 * - `bwrap-nobody`: the engine runs as root and starts bubblewrap as uid/gid 65534, which makes
 *   its own user namespace: nothing in the sandbox is root anywhere;
 * - `bwrap-root`: the engine runs as root but bubblewrap cannot run as 65534 here (unprivileged
 *   user namespaces are off, or 65534 cannot reach the interpreter); root starts bubblewrap inside
 *   a user namespace the engine made, in which the sandbox is host uid 65534 again;
 * - `bwrap-user`: the engine runs as an ordinary user, whose uid the sandbox maps to 65534;
 * - `none`: no isolation at all (explicit opt-in only).
 * Inside, the three bubblewrap modes look the same to a program; they differ in who starts
 * bubblewrap and in what the host must allow.
 */
export type Isolation = 'bwrap-nobody' | 'bwrap-root' | 'bwrap-user' | 'none';
export const ISOLATIONS: readonly Isolation[] = ['bwrap-nobody', 'bwrap-root', 'bwrap-user', 'none'];

/** What a stored verdict's sandbox may say: a mode, or `bwrap` from engines that did not yet
 * record which bubblewrap arrangement they used. */
export type StoredIsolation = Isolation | 'bwrap';

/** Whether a verdict was reached inside bubblewrap. */
export function isIsolated(i: StoredIsolation): boolean {
  return i !== 'none';
}

/** A program that gets a verdict: a reference solution, a history version, or a sample (its
 * target's pre + middle + suf). */
export type CandidateKind = ReferenceKind | 'sample';
export const CANDIDATE_KINDS: readonly CandidateKind[] = ['solution', 'version', 'sample'];
/** The programs that came with the datasets (what `check-refs` runs). */
export type ReferenceKind = 'solution' | 'version';
export const REFERENCE_KINDS: readonly ReferenceKind[] = ['solution', 'version'];

// ---- sampling -----------------------------------------------------------------------------------

/** Model families with built-in fill-in-the-middle tokens (docs/sampling.md "Prompts"). */
export type FimFamily = 'qwen2.5-coder' | 'deepseek-coder' | 'starcoder2' | 'codellama';
export const FIM_FAMILIES: readonly FimFamily[] = ['qwen2.5-coder', 'deepseek-coder', 'starcoder2', 'codellama'];
/** Prompt formats a sampling job can use: a FIM family, `custom` FIM tokens, or the chat prompt. */
export type SamplingFamily = FimFamily | 'custom' | 'chat';
export const SAMPLING_FAMILIES: readonly SamplingFamily[] = [...FIM_FAMILIES, 'custom', 'chat'];

// ---- pairs --------------------------------------------------------------------------------------

export type PairMode = 'structurecoder' | 'iterpref';
export const PAIR_MODES: readonly PairMode[] = ['structurecoder', 'iterpref'];

/** fim: a block re-generated between a prefix and a suffix; full: a whole program with empty
 * prefix and suffix (always trained in chat format); iterpref: two versions of a whole program. */
export type PairKind = 'fim' | 'iterpref' | 'full';
export const PAIR_KINDS: readonly PairKind[] = ['fim', 'iterpref', 'full'];

/** A reviewer's decision on a pair (`pairs.status`). */
export type PairStatus = 'pending' | 'accepted' | 'rejected' | 'flagged';
export const PAIR_STATUSES: readonly PairStatus[] = ['pending', 'accepted', 'rejected', 'flagged'];

/** A character range [start, end) of a response that counts in the loss. */
export type Span = [number, number];

/**
 * Flags set by the filters (they never delete a pair; docs/pairs.md "Filters"):
 * - identical_ast: chosen and rejected programs have the same syntax tree once comments and
 *   whitespace are ignored;
 * - comment_only: every critical rejected line is a comment or blank (IterPref);
 * - no_critical_lines: the rejected side has no line outside the LCS, so nothing of it counts;
 * - too_many_critical: more critical rejected lines than the limit (20);
 * - too_long: either side (prompt + response) is over the token limit (2048);
 * - duplicate: the same question, context, chosen and rejected as an older pair;
 * - stale: the latest pairing run over this pair's target or history no longer produces it.
 */
export type PairFlag = 'identical_ast' | 'comment_only' | 'no_critical_lines' | 'too_many_critical' | 'too_long' | 'duplicate' | 'stale';
export const PAIR_FLAGS: readonly PairFlag[] = ['identical_ast', 'comment_only', 'no_critical_lines', 'too_many_critical', 'too_long', 'duplicate', 'stale'];

// ---- documents linked to problems ---------------------------------------------------------------

/** The header comment that links a Python file to a stored problem is looked for in this many
 * first lines (after a shebang / encoding line / docstring start). */
export const LINK_HEADER_LINES = 5;
const LINK_HEADER = /^#\s*pairforge-problem:\s*([^/\s][^/]*)\/(\S.*?)\s*$/;

/** The header line that links a file to a problem, e.g. `# pairforge-problem: demo-apps/9001`.
 * The dataset name is everything before the first `/` (dataset names come from file names), so
 * `# pairforge-problem: HumanEval/HumanEval/0` names problem `HumanEval/0`. A comment, not editor
 * state: the link travels with the file, works the same from the CLI, and a person can change it. */
export function problemHeader(dataset: string, externalId: string): string {
  return `# pairforge-problem: ${dataset}/${externalId}`;
}

/** `{dataset, externalId, line}` from the header comment, or undefined. */
export function parseProblemHeader(text: string): { dataset: string; externalId: string; line: number } | undefined {
  const lines = text.split('\n', LINK_HEADER_LINES);
  for (let i = 0; i < lines.length; i++) {
    const m = LINK_HEADER.exec(lines[i].replace(/\r$/, '').trim());
    if (m) return { dataset: m[1].trim(), externalId: m[2], line: i };
  }
  return undefined;
}

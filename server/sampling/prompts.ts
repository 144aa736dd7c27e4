// Sampling prompts for every model family (docs/published.md "StructureCoder", docs/sampling.md "Prompts"). Pure functions, no I/O.
//
// FIM layout (all families share StructureCoder's head: the question as `# ` comments, a blank
// line, then `pre`):
//
//   qwen2.5-coder   <|fim_prefix|>HEAD\n\npre<|fim_suffix|>suf<|fim_middle|>start
//   deepseek-coder  <｜fim▁begin｜>HEAD\n\npre<｜fim▁hole｜>suf<｜fim▁end｜>start
//   starcoder2      <fim_prefix>HEAD\n\npre<fim_suffix>suf<fim_middle>start
//   codellama       <PRE> HEAD\n\npre <SUF>suf <MID>start
//   custom          PREFIX HEAD\n\npre SUFFIX suf MIDDLE start   (token strings from the caller)
//
// qwen2.5-coder is byte for byte the published `consturct_fim`: test/unit/sampling/parity.test.ts
// compares it with the committed fixture test/fixtures/sampling/published.json, the published
// Python's output on real targets (made by scripts/parity/sampling_driver.py, which
// scripts/parity/sampling_fixture.mjs runs on a StructureCoder checkout). The model's text
// is appended to `start` (the first middle line's indentation and keyword), so the model cannot
// choose a different kind of block.
//
// Chat (the published `construct_full`): the Qwen chat template of the question, then "```python"
// and the start. For a whole program (empty pre and suf) start is the stripped starter code glued
// to the fence exactly as the published code does (so "```pythonclass Solution:" with starter
// code; post-processing drops the line break a model writes after a bare fence, so the stored
// program is the response the chat training format pairs with "```python\n"); for a block,
// "```python\n" + pre + start, so the model writes the block after the code above it (it cannot
// see the suffix; post-processing cuts the block off by indentation). Whole-program targets (kind
// 'program') are always sampled this way, whatever the job's family.

import { pyStrip } from '../blocks/cut';
import { PROGRAM_KIND, SAMPLING_FAMILIES, type CustomTokens, type FimFamily, type Preset, type SamplingFamily } from '../protocol';

export interface PromptParts {
  question: string;
  pre: string;
  suf: string;
  /** What the middle starts with (see startOf); '' lets the model choose. */
  start: string;
}

export interface BuiltPrompt {
  prompt: string;
  stop: string[];
  stopTokenIds: number[];
}

interface FamilyTokens {
  prefix: string;
  suffix: string;
  middle: string;
  stop: readonly string[];
  stopTokenIds: readonly number[];
}

/** FIM tokens, stop strings and stop token ids (the models' real vocabulary ids).
 * qwen2.5-coder: the published stops are `<|endoftext|>` and `<|im_end|>`; its FIM and repo tokens
 * are not "special" in vLLM, so a model that emits one would run on into another file: they are
 * stop strings too (docs/published.md "vLLM's OpenAI-compatible server"). Their ids are not stop ids, so a stop string is what ends the
 * text and it never reaches the output. */
const FIM: Readonly<Record<FimFamily, FamilyTokens>> = {
  'qwen2.5-coder': {
    prefix: '<|fim_prefix|>',
    suffix: '<|fim_suffix|>',
    middle: '<|fim_middle|>',
    stop: ['<|endoftext|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'],
    stopTokenIds: [151643, 151645],
  },
  'deepseek-coder': {
    prefix: '<｜fim▁begin｜>',
    suffix: '<｜fim▁hole｜>',
    middle: '<｜fim▁end｜>',
    stop: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
    stopTokenIds: [32014],
  },
  starcoder2: {
    prefix: '<fim_prefix>',
    suffix: '<fim_suffix>',
    middle: '<fim_middle>',
    stop: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<repo_name>'],
    stopTokenIds: [0],
  },
  // CodeLlama's infilling format puts a space after <PRE> and before <SUF> / <MID> (its tokens are
  // "▁<PRE>" etc.); the model ends the middle with <EOT> (id 32010), then </s> (id 2).
  codellama: {
    prefix: '<PRE> ',
    suffix: ' <SUF>',
    middle: ' <MID>',
    stop: ['<EOT>', '</s>'],
    stopTokenIds: [32010, 2],
  },
};

/** The published chat template (utils/template.py `qwen['question']`). */
export const CHAT_SYSTEM = 'You are an intelligent programming assistant to produce Python algorithmic solutions.';
export function chatTemplate(question: string): string {
  return `<|im_start|>system\n${CHAT_SYSTEM}<|im_end|>\n<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n`;
}
const CHAT_STOP: readonly string[] = ['<|endoftext|>', '<|im_end|>'];
const CHAT_STOP_IDS: readonly number[] = [151643, 151645];

/** The published `transfer`: each question line `p` becomes `# p`; a line that is blank after
 * Python's strip() becomes empty (lines are otherwise kept as they are, `\r` included). */
export function questionAsComments(question: string): string {
  return question
    .split('\n')
    .map((p) => (pyStrip(p) ? `# ${p}` : ''))
    .join('\n');
}

/** The published `extract_type`: the first middle line's leading spaces plus its keyword, e.g.
 * "    for". The published code takes the first whitespace-separated word (and asserts it is a
 * keyword); here the keyword is the word's leading identifier, which is the same whenever the
 * keyword is followed by whitespace and also covers `if(x):`. Leading newlines are skipped as
 * `mid.strip('\n')` does. Published (`structurecoder`), only spaces count as indentation
 * (`lstrip(' ')`), so a tab-indented middle starts at column 0 and its golden middle does not
 * come back (it is golden-broken, server/sampling/golden.ts); `clean` keeps the line's whole
 * indentation, tabs included. */
export function startOf(mid: string, preset: 'structurecoder' | 'clean' = 'structurecoder'): string {
  let i = 0;
  while (i < mid.length && mid[i] === '\n') i++;
  const nl = mid.indexOf('\n', i);
  const first = mid.slice(i, nl < 0 ? undefined : nl);
  let k = 0;
  if (preset === 'clean') while (k < first.length && (first[k] === ' ' || first[k] === '\t' || first[k] === '\f')) k++;
  else while (k < first.length && first[k] === ' ') k++;
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(pyStrip(first));
  if (!word) throw new Error(`the middle's first line has no keyword: ${JSON.stringify(first.slice(0, 60))}`);
  return first.slice(0, k) + word[0];
}

function fimTokensOf(family: SamplingFamily, custom?: CustomTokens): FamilyTokens {
  if (family === 'custom') {
    if (!custom) throw new Error("family 'custom' needs token strings (prefix, suffix, middle, stop)");
    for (const k of ['prefix', 'suffix', 'middle'] as const) {
      if (typeof custom[k] !== 'string' || custom[k] === '') throw new Error(`custom tokens: '${k}' must be a non-empty string`);
    }
    if (!Array.isArray(custom.stop) || custom.stop.some((s) => typeof s !== 'string' || s === '')) throw new Error("custom tokens: 'stop' must be a list of non-empty strings");
    return { ...custom, stopTokenIds: custom.stopTokenIds ?? [] };
  }
  if (family === 'chat') throw new Error('chat is not a FIM family');
  const t = FIM[family];
  if (!t) throw new Error(`unknown family '${String(family)}' (one of ${SAMPLING_FAMILIES.join(', ')})`);
  return t;
}

/** True for a whole-program target (nothing before or after the middle). */
export function isWholeProgram(parts: Pick<PromptParts, 'pre' | 'suf'>): boolean {
  return parts.pre === '' && parts.suf === '';
}

/** The prompt, stop strings and stop token ids for one target. */
export function buildFimPrompt(family: SamplingFamily, parts: PromptParts, custom?: CustomTokens): BuiltPrompt {
  if (family === 'chat') {
    const code = isWholeProgram(parts) ? parts.start : `\n${parts.pre}${parts.start}`;
    return { prompt: `${chatTemplate(parts.question)}\`\`\`python${code}`, stop: [...CHAT_STOP], stopTokenIds: [...CHAT_STOP_IDS] };
  }
  const t = fimTokensOf(family, custom);
  const prompt = `${t.prefix}${questionAsComments(parts.question)}\n\n${parts.pre}${t.suffix}${parts.suf}${t.middle}${parts.start}`;
  return { prompt, stop: [...t.stop], stopTokenIds: [...t.stopTokenIds] };
}

/** The start of a chat whole-program sample: the published `starter_code.strip()`. */
export function chatStart(starterCode: string | null): string {
  return starterCode ? pyStrip(starterCode) : '';
}

/** A stored target and its problem, as a prompt needs them. */
export interface PromptTarget {
  /** `targets.kind`: a block kind, or PROGRAM_KIND for a whole program. */
  kind: string;
  pre: string;
  mid: string;
  suf: string;
  question: string;
  starterCode: string | null;
}

export interface TargetPrompt extends BuiltPrompt {
  /** What the prompt ends with; the model's text is appended to it. */
  start: string;
  /** Prompted as chat (the chat family, or a whole-program target under any family). */
  chat: boolean;
  /** A whole program: chat output is cut at the closing fence only. */
  whole: boolean;
}

/** The prompt of one target under a job's family (and the preset its start follows, see startOf).
 * A whole-program target (kind PROGRAM_KIND) is always prompted as chat — the chat template, "```python" and the stripped starter code —
 * whatever the family; other targets use the family's format. */
export function promptForTarget(family: SamplingFamily, t: PromptTarget, custom?: CustomTokens, preset: Preset = 'structurecoder'): TargetPrompt {
  const program = t.kind === PROGRAM_KIND;
  const chat = family === 'chat' || program;
  const whole = program || isWholeProgram(t);
  const start = chat && whole ? chatStart(t.starterCode) : startOf(t.mid, preset);
  const built = buildFimPrompt(chat ? 'chat' : family, { question: t.question, pre: t.pre, suf: t.suf, start }, custom);
  return { ...built, start, chat, whole };
}

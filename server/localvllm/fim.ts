// Reading a fill-in-the-middle prompt back into its parts, for every family in docs/published.md "StructureCoder".
// Pure functions: the local server uses them to find which target a prompt asks for.
//
//   qwen2.5-coder   <|fim_prefix|>HEAD+pre<|fim_suffix|>suf<|fim_middle|>start
//   deepseek-coder  <｜fim▁begin｜>HEAD+pre<｜fim▁hole｜>suf<｜fim▁end｜>start
//   starcoder2      <fim_prefix>HEAD+pre<fim_suffix>suf<fim_middle>start
//   codellama       <PRE> HEAD+pre <SUF>suf <MID>start
//   chat            ...<|im_start|>assistant\n```python\nCODE
// HEAD is the question as `# ` comments followed by a blank line (StructureCoder's format); it is
// optional here, and the caller decides where it ends by looking the pre up (see candidatesPre).
import { FIM_FAMILIES, type FimFamily } from '../protocol';

export type PromptFamily = FimFamily | 'chat';

export interface FimTokens {
  prefix: string;
  suffix: string;
  middle: string;
  /** What the model emits after the middle (the first is what a client stops on). */
  end: readonly string[];
}

export const FIM_TOKENS: Readonly<Record<FimFamily, FimTokens>> = {
  'qwen2.5-coder': { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', end: ['<|endoftext|>'] },
  'deepseek-coder': { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', end: ['<｜end▁of▁sentence｜>'] },
  starcoder2: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', end: ['<|endoftext|>'] },
  codellama: { prefix: '<PRE>', suffix: '<SUF>', middle: '<MID>', end: ['<EOT>', '</s>'] },
};

/** What the chat model emits after the code: the closing fence, then the end of its turn. */
export const CHAT_END: readonly string[] = ['\n```', '<|im_end|>'];

export interface ParsedFim {
  family: FimFamily;
  /** Everything between the prefix and suffix tokens: the optional question header, then `pre`. */
  prefixText: string;
  suf: string;
  /** Text after the middle token: the start of the middle the model continues (may be empty). */
  start: string;
}

export interface ParsedChat {
  family: 'chat';
  question: string;
  /** The code already written after the opening fence (the model continues it). */
  code: string;
}

/** The last occurrence of `token` at or before `before`, or -1. */
function lastIndex(s: string, token: string, before = s.length): number {
  return s.lastIndexOf(token, before);
}

/** Parses the last FIM triple in a prompt; null when the prompt is not a FIM prompt of a known family. */
export function parseFimPrompt(prompt: string): ParsedFim | null {
  let best: ParsedFim | null = null;
  let bestAt = -1;
  for (const family of FIM_FAMILIES) {
    const t = FIM_TOKENS[family];
    const mid = lastIndex(prompt, t.middle);
    if (mid < 0) continue;
    const suf = lastIndex(prompt, t.suffix, mid);
    if (suf < 0) continue;
    const pre = lastIndex(prompt, t.prefix, suf);
    if (pre < 0) continue;
    if (mid <= bestAt) continue;
    let prefixText = prompt.slice(pre + t.prefix.length, suf);
    let sufText = prompt.slice(suf + t.suffix.length, mid);
    if (family === 'codellama') {
      // `<PRE> ` + pre + ` <SUF>` + suf + ` <MID>`: the spaces belong to the format, not the code.
      if (prefixText.startsWith(' ')) prefixText = prefixText.slice(1);
      if (prefixText.endsWith(' ')) prefixText = prefixText.slice(0, -1);
      if (sufText.endsWith(' ')) sufText = sufText.slice(0, -1);
    }
    best = { family, prefixText, suf: sufText, start: prompt.slice(mid + t.middle.length) };
    bestAt = mid;
  }
  return best;
}

/** Where `pre` may begin inside `prefixText`: at 0 (no header) or at any line start — the
 * StructureCoder header is the question as comments and a blank line, but other prompt builders
 * may end it differently. Longest pre first, so the whole prefix wins when it is a target's. */
export function candidatesPre(prefixText: string): string[] {
  const out: string[] = [prefixText];
  let i = prefixText.indexOf('\n');
  while (i >= 0) {
    out.push(prefixText.slice(i + 1));
    i = prefixText.indexOf('\n', i + 1);
  }
  return out;
}

const CHAT_ASSISTANT = '<|im_start|>assistant\n';
const CHAT_USER = '<|im_start|>user\n';

/** Parses a chat prompt ending in an open ```python fence; null otherwise. */
export function parseChatPrompt(prompt: string): ParsedChat | null {
  const a = prompt.lastIndexOf(CHAT_ASSISTANT);
  if (a < 0) return null;
  const after = prompt.slice(a + CHAT_ASSISTANT.length);
  const fence = after.indexOf('```python');
  if (fence < 0) return null;
  let code = after.slice(fence + '```python'.length);
  if (code.startsWith('\n')) code = code.slice(1);
  const u = prompt.lastIndexOf(CHAT_USER, a);
  const end = u < 0 ? -1 : prompt.indexOf('<|im_end|>', u);
  const question = u < 0 || end < 0 ? '' : prompt.slice(u + CHAT_USER.length, end);
  return { family: 'chat', question, code };
}

/** The head of a line that must agree for a starter line to stand for a program line: its
 * indentation and its first one or two names (`class Solution`, `    def isBalanced`). */
function lineHead(line: string): string | null {
  const m = /^([ \t]*)([A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)?)/.exec(line);
  return m ? `${m[1]}${m[2]}` : null;
}

/** What a model writes after `code` (the starter code a whole-program chat prompt ends with) to
 * arrive at `program`: the rest of it when it starts with `code`; otherwise, when `code` is the
 * program's first lines up to annotations and arguments (each line with the same indentation and
 * first names, as an APPS starter `def f(self, s: str) -> bool:` stands for a reference's
 * `def f(self, s):`), a newline and the program's lines after them; else null. */
export function programContinuation(program: string, code: string): string | null {
  if (program.startsWith(code)) return program.slice(code.length);
  const head = code.split('\n');
  const lines = program.split('\n');
  if (head.length >= lines.length) return null;
  for (let i = 0; i < head.length; i++) {
    const h = lineHead(head[i]);
    if (h === null || h !== lineHead(lines[i])) return null;
  }
  return `\n${lines.slice(head.length).join('\n')}`;
}

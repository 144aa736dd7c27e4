// A stored pair rendered as training text (docs/published.md "StructureCoder", "Training formats").
// Pure. Chosen and rejected always share the format.
//
// - FIM: prompt = the family's FIM prompt of the query (the question as comments, then pre, the
//   suffix token, suf, the middle token; no start keyword: the middle already begins with it),
//   response = middle + the family's end token; all of the response counts in the loss.
// - chat: prompt = the chat template of the query + "```python\n" + pre, response = the middle;
//   all of it counts, except that an IterPref rejected response counts only on its critical lines.
// Spans stored on a pair are relative to the bare response (the middle or program); rendering
// keeps them relative to the rendered response, which only ever appends (the end token).

import { buildFimPrompt, chatTemplate } from '../sampling/prompts';
import type { FimFamily, Span } from '../protocol';

/** The FIM training input of the published trainer: the sampling prompt with an empty start (the
 * response is the whole middle, keyword included). */
export function fimTrainingPrompt(family: FimFamily, question: string, pre: string, suf: string): string {
  return buildFimPrompt(family, { question, pre, suf, start: '' }).prompt;
}

export type TrainFormat = 'fim' | 'chat';

/** The sentence the published trainer appends to every query (optional here). */
export const TRAINING_SENTENCE =
  'Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs).';

export function withTrainingSentence(question: string): string {
  return `${question}\n\n${TRAINING_SENTENCE}`;
}

/** The token a FIM training response ends with, per family (the published trainer appends
 * Qwen's `<|endoftext|>`; CodeLlama ends an infilled middle with `<EOT>`). */
export function endToken(family: FimFamily): string {
  switch (family) {
    case 'deepseek-coder':
      return '<｜end▁of▁sentence｜>';
    case 'codellama':
      return '<EOT>';
    default:
      return '<|endoftext|>';
  }
}

export interface RenderInput {
  question: string;
  pre: string;
  suf: string;
  chosen: string;
  rejected: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
}

export interface Rendered {
  format: TrainFormat;
  prompt: string;
  chosen: string;
  rejected: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
}

/** A whole program: nothing before or after the response, so always trained as chat. */
export function isWholeProgram(pre: string, suf: string): boolean {
  return pre === '' && suf === '';
}

/** Spans over `text` grown to cover `extra` characters appended after it when the last span
 * reaches its end (a FIM response's end token counts when the whole middle does). */
function extendSpans(spans: Span[], textLength: number, extra: number): Span[] {
  return spans.map(([a, b]) => [a, b === textLength ? b + extra : b] as Span);
}

export function renderPair(pair: RenderInput, format: TrainFormat, family: FimFamily): Rendered {
  if (format === 'fim' && !isWholeProgram(pair.pre, pair.suf)) {
    const eot = endToken(family);
    const prompt = fimTrainingPrompt(family, pair.question, pair.pre, pair.suf);
    return {
      format: 'fim',
      prompt,
      chosen: pair.chosen + eot,
      rejected: pair.rejected + eot,
      chosenSpans: extendSpans(pair.chosenSpans, pair.chosen.length, eot.length),
      rejectedSpans: extendSpans(pair.rejectedSpans, pair.rejected.length, eot.length),
    };
  }
  return {
    format: 'chat',
    prompt: `${chatTemplate(pair.question)}\`\`\`python\n${pair.pre}`,
    chosen: pair.chosen,
    rejected: pair.rejected,
    chosenSpans: pair.chosenSpans,
    rejectedSpans: pair.rejectedSpans,
  };
}

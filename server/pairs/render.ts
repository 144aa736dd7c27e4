// A stored pair rendered as training text (docs/published.md "StructureCoder", "Training formats").
// Pure. Chosen and rejected always share the format.
//
// - FIM: prompt = the family's FIM prompt of the query (the question as comments, then pre, the
//   suffix token, suf, the middle token; no start keyword: the middle already begins with it),
//   response = middle + the family's end token; all of the response counts in the loss.
// - chat: prompt = the chat template of the query + "```python\n" + pre, response = the middle;
//   all of it counts, except that an IterPref rejected response counts only on its critical lines.
// Spans stored on a pair are relative to the bare response (the middle or program), in UTF-16
// units; rendering keeps them relative to the rendered response, which only ever appends (the end
// token), and gives them in Unicode code points, as trainers index text (docs/pairs.md, "Offsets").
//
// renderForTraining is the one rendering of "what training sees": the export writes it and the
// scoring stage scores exactly it.

import { buildFimPrompt, chatTemplate } from '../sampling/prompts';
import type { FimFamily, Span } from '../protocol';
import { codePointSpans } from './codepoints';

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

/** A pair as training sees it. Spans are in Unicode code points of the rendered response. */
export interface Rendered {
  format: TrainFormat;
  prompt: string;
  chosen: string;
  rejected: string;
  chosenSpans: Span[];
  rejectedSpans: Span[];
}

/** How a pair is rendered for training: the FIM family, and whether the published trainer's
 * sentence is appended to the question. */
export interface TrainingOptions {
  family: FimFamily;
  trainingSentence: boolean;
}

/** A whole program: nothing before or after the response, so always trained as chat. */
export function isWholeProgram(pre: string, suf: string): boolean {
  return pre === '' && suf === '';
}

/** The format a pair is trained in when `format` is asked for: whole programs are always chat. */
export function formatFor(pair: { pre: string; suf: string }, format: TrainFormat): TrainFormat {
  return format === 'fim' && !isWholeProgram(pair.pre, pair.suf) ? 'fim' : 'chat';
}

/** Spans over `text` grown to cover `extra` characters appended after it when the last span
 * reaches its end (a FIM response's end token counts when the whole middle does). */
function extendSpans(spans: Span[], textLength: number, extra: number): Span[] {
  return spans.map(([a, b]) => [a, b === textLength ? b + extra : b] as Span);
}

/** What training sees for a stored pair: prompt, responses, and their loss spans in code points. */
export function renderForTraining(pair: RenderInput, format: TrainFormat, opts: TrainingOptions): Rendered {
  const question = opts.trainingSentence ? withTrainingSentence(pair.question) : pair.question;
  if (formatFor(pair, format) === 'fim') {
    const eot = endToken(opts.family);
    const chosen = pair.chosen + eot;
    const rejected = pair.rejected + eot;
    return {
      format: 'fim',
      prompt: fimTrainingPrompt(opts.family, question, pair.pre, pair.suf),
      chosen,
      rejected,
      chosenSpans: codePointSpans(chosen, extendSpans(pair.chosenSpans, pair.chosen.length, eot.length)),
      rejectedSpans: codePointSpans(rejected, extendSpans(pair.rejectedSpans, pair.rejected.length, eot.length)),
    };
  }
  return {
    format: 'chat',
    prompt: `${chatTemplate(question)}\`\`\`python\n${pair.pre}`,
    chosen: pair.chosen,
    rejected: pair.rejected,
    chosenSpans: codePointSpans(pair.chosen, pair.chosenSpans),
    rejectedSpans: codePointSpans(pair.rejected, pair.rejectedSpans),
  };
}

/** renderForTraining without the training sentence. */
export function renderPair(pair: RenderInput, format: TrainFormat, family: FimFamily): Rendered {
  return renderForTraining(pair, format, { family, trainingSentence: false });
}

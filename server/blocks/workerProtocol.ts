// Messages between server/blocks/batch.ts and its worker threads, and the span packing they share.
import { readFileSync } from 'node:fs';
import type { TargetSpan } from './cut';
import type { PresetOptions } from './types';
import { type BlockKind, CORE_KINDS, EXTRA_KINDS } from '../protocol';

/** What a worker is asked to cut: a file it reads itself, or the text. */
export type BatchInput = { file: string } | { source: string };

/** The text of an input, or why it cannot be read (the worker's, and the calling thread's without workers). */
export function readInput(input: BatchInput): { source: string } | { error: string } {
  if ('source' in input) return input;
  try {
    return { source: readFileSync(input.file, 'utf8') };
  } catch (e) {
    return { error: `cannot read ${input.file}: ${(e as Error).message}` };
  }
}

export interface WorkerRequest {
  seq: number;
  input: BatchInput;
  opts: PresetOptions;
}

export type WorkerReply =
  | { seq: number; code: string; spans: Int32Array; error?: string; unreadable?: true; fatal?: undefined }
  | { seq: number; fatal: string };

const KINDS: readonly BlockKind[] = [...CORE_KINDS, ...EXTRA_KINDS];

/** Six int32 per span: kind index, depth, start line, end line, from, to. */
const FIELDS = 6;

export function packSpans(spans: readonly TargetSpan[]): Int32Array {
  const out = new Int32Array(spans.length * FIELDS);
  spans.forEach((s, i) => {
    out.set([KINDS.indexOf(s.kind), s.depth, s.startLine, s.endLine, s.from, s.to], i * FIELDS);
  });
  return out;
}

export function unpackSpans(packed: Int32Array): TargetSpan[] {
  const out: TargetSpan[] = [];
  for (let i = 0; i + FIELDS <= packed.length; i += FIELDS) {
    const kind = KINDS[packed[i]];
    if (kind === undefined) throw new Error(`blocks worker: unknown kind index ${packed[i]}`);
    out.push({ kind, depth: packed[i + 1], startLine: packed[i + 2], endLine: packed[i + 3], from: packed[i + 4], to: packed[i + 5] });
  }
  return out;
}

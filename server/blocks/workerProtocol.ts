// Messages between server/blocks/batch.ts and its worker threads, and the span packing they share.
import type { TargetSpan } from './cut';
import type { BlockKind, PresetOptions } from './types';
import { CORE_KINDS, EXTRA_KINDS } from './types';

export interface WorkerRequest {
  seq: number;
  file: string;
  opts: PresetOptions;
}

export type WorkerReply =
  | { seq: number; code: string; spans: Int32Array; error?: string; fatal?: undefined }
  | { seq: number; fatal: string };

const KINDS: readonly BlockKind[] = [...CORE_KINDS, ...EXTRA_KINDS];

/** Four int32 per span: kind index, depth, start line, end line. */
export function packSpans(spans: readonly TargetSpan[]): Int32Array {
  const out = new Int32Array(spans.length * 4);
  spans.forEach((s, i) => {
    out[i * 4] = KINDS.indexOf(s.kind);
    out[i * 4 + 1] = s.depth;
    out[i * 4 + 2] = s.startLine;
    out[i * 4 + 3] = s.endLine;
  });
  return out;
}

export function unpackSpans(packed: Int32Array): TargetSpan[] {
  const out: TargetSpan[] = [];
  for (let i = 0; i + 3 < packed.length; i += 4) {
    const kind = KINDS[packed[i]];
    if (kind === undefined) throw new Error(`blocks worker: unknown kind index ${packed[i]}`);
    out.push({ kind, depth: packed[i + 1], startLine: packed[i + 2], endLine: packed[i + 3] });
  }
  return out;
}

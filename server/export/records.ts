// One exported line per format (docs/pairs.md "pairforge export"). Pure: a stored pair plus its question in, a
// JSON-ready object out.
//
// - trl: {prompt, chosen, rejected, chosen_loss_spans, rejected_loss_spans, metadata}. prompt is
//   the rendered text (FIM or chat), chosen/rejected the rendered responses; the span columns
//   are [start, end) ranges of each response that count in the loss, in Unicode code points.
// - structurecoder: the published training line {chosen: {query, response_pre, response_mid,
//   response_suf}, rejected: {...}}; the published trainer renders FIM/chat and appends its
//   sentence itself, so neither is applied here.
// - llamafactory: {instruction, input, chosen, rejected} (its preference "ranking" layout), with
//   the rendered prompt as the instruction; train it with LLaMA-Factory's `empty` template so the
//   prompt is not wrapped a second time. LLaMA-Factory has no per-token rejected mask, so spans
//   are carried as extra columns it ignores.

import { renderForTraining, type TrainFormat, type TrainingOptions } from '../pairs/render';
import type { PairRecord } from '../pairs/store';
import type { Span } from '../protocol';

export type ExportFormat = 'trl' | 'structurecoder' | 'llamafactory';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['trl', 'structurecoder', 'llamafactory'];

export interface ExportPair extends PairRecord {
  question: string;
  /** "dataset/external id" of the problem. */
  problem: string;
}

export interface TrlRecord {
  prompt: string;
  chosen: string;
  rejected: string;
  chosen_loss_spans: Span[];
  rejected_loss_spans: Span[];
  metadata: Record<string, unknown>;
}

export interface StructureCoderSide {
  query: string;
  response_pre: string;
  response_mid: string;
  response_suf: string;
}

export interface StructureCoderRecord {
  chosen: StructureCoderSide;
  rejected: StructureCoderSide;
}

export interface LlamaFactoryRecord {
  instruction: string;
  input: string;
  chosen: string;
  rejected: string;
  chosen_loss_spans: Span[];
  rejected_loss_spans: Span[];
}

export type RenderOptions = TrainingOptions;

/** What identifies and describes a record. Review status and flags are left out (the manifest
 * counts them): they change after an export without changing the data, and a re-export from
 * the manifest must come out byte-identical. */
function metadataOf(pair: ExportPair, format: TrainFormat): Record<string, unknown> {
  const prov = pair.provenance;
  return {
    pair_id: pair.id,
    pair_key: pair.pairKey,
    mode: pair.mode,
    kind: pair.kind,
    format,
    problem_id: pair.problemId,
    problem: pair.problem,
    target_id: pair.targetId,
    history_id: pair.historyId,
    block_kind: pair.blockKind,
    depth: pair.depth,
    golden_lines: pair.goldenLines,
    edit_distance: pair.editDistance,
    models: prov.models ?? null,
    endpoints: prov.endpoints ?? null,
  };
}

export function trlRecord(pair: ExportPair, format: TrainFormat, opts: RenderOptions): TrlRecord {
  const r = renderForTraining(pair, format, opts);
  return {
    prompt: r.prompt,
    chosen: r.chosen,
    rejected: r.rejected,
    chosen_loss_spans: r.chosenSpans,
    rejected_loss_spans: r.rejectedSpans,
    metadata: metadataOf(pair, r.format),
  };
}

export function llamaFactoryRecord(pair: ExportPair, format: TrainFormat, opts: RenderOptions): LlamaFactoryRecord {
  const r = renderForTraining(pair, format, opts);
  return { instruction: r.prompt, input: '', chosen: r.chosen, rejected: r.rejected, chosen_loss_spans: r.chosenSpans, rejected_loss_spans: r.rejectedSpans };
}

export function structureCoderRecord(pair: ExportPair): StructureCoderRecord {
  const side = (mid: string): StructureCoderSide => ({ query: pair.question, response_pre: pair.pre, response_mid: mid, response_suf: pair.suf });
  return { chosen: side(pair.chosen), rejected: side(pair.rejected) };
}

/** The dataset_info.json entry LLaMA-Factory reads the file with. */
export function llamaFactoryDatasetInfo(name: string, fileName: string): Record<string, unknown> {
  return {
    [name]: {
      file_name: fileName,
      ranking: true,
      columns: { prompt: 'instruction', query: 'input', chosen: 'chosen', rejected: 'rejected' },
    },
  };
}

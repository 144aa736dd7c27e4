// The one typed protocol between the extension (client) and the engine server.
// Both sides import this module; it must not import `vscode`.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { BlockKind, Preset } from './blocks/types';

export type { BlockKind, Preset } from './blocks/types';

/** Dataset formats the importer understands (README "Dataset formats"). */
export type DatasetFormat = 'apps' | 'humaneval' | 'mbpp' | 'history';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['apps', 'humaneval', 'mbpp', 'history'];

/** URI scheme of solutions and history versions stored in a project, opened read-only. */
export const STORE_SCHEME = 'pairforge';

// ---- settings pushed from the client -------------------------------------------------

export interface EngineSettings {
  /** Absolute path of the project SQLite file. */
  dbPath: string;
  /** Block rules used for highlighting in the editor. */
  preset: Preset;
  /** `clean` preset: extra kinds to highlight. */
  extraKinds: BlockKind[];
}
export const ConfigureNotification = new NotificationType<EngineSettings>('pairforge/configure');

// ---- blocks in open documents ---------------------------------------------------------

/** A block in an open document; 0-based lines/characters, endLine inclusive. */
export interface BlockInfo {
  kind: BlockKind;
  depth: number;
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}
export interface BlocksParams {
  uri: string;
  version: number;
  preset: Preset;
  blocks: BlockInfo[];
  /** True when the tree has syntax errors (blocks are still reported where found). */
  hasErrors: boolean;
}
/** Server -> client after every open / change of a Python document. */
export const BlocksNotification = new NotificationType<BlocksParams>('pairforge/blocks');

// ---- datasets tree --------------------------------------------------------------------

export type DatasetNodeKind = 'dataset' | 'problem' | 'solution' | 'history' | 'version';
export interface DatasetNode {
  /** Opaque id, passed back as `parent` to list the children. */
  id: string;
  kind: DatasetNodeKind;
  label: string;
  description?: string;
  tooltip?: string;
  /** For solutions and versions: a `pairforge:` URI whose content the server serves. */
  uri?: string;
  hasChildren: boolean;
}
export interface DatasetChildrenParams {
  parent?: string;
}
export const DatasetChildrenRequest = new RequestType<DatasetChildrenParams, DatasetNode[], void>('pairforge/datasetChildren');

export interface DocumentContentParams {
  uri: string;
}
export const DocumentContentRequest = new RequestType<DocumentContentParams, { text: string }, void>('pairforge/documentContent');

// ---- import ---------------------------------------------------------------------------

export interface BadLine {
  file: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  reason: string;
}
export interface FileImportSummary {
  file: string;
  format: DatasetFormat;
  datasetId: number;
  /** Non-empty records read. */
  records: number;
  /** Problems newly stored. */
  imported: number;
  /** Problems already stored with identical content (re-import). */
  unchanged: number;
  bad: BadLine[];
}
export interface ImportSummary {
  files: FileImportSummary[];
  cancelled: boolean;
}
export interface ImportParams {
  files: string[];
  /** LSP work-done token (client-created) on which the server reports import progress. */
  workDoneToken?: string | number;
  format?: DatasetFormat;
}
/** Long-running: the client passes a work-done token for progress and may cancel. */
export const ImportRequest = new RequestType<ImportParams, ImportSummary, void>('pairforge/import');

// ---- stats ----------------------------------------------------------------------------

export interface ProjectStats {
  datasets: number;
  problems: number;
  tests: number;
  solutions: number;
  histories: number;
  versions: number;
  targets: number;
}
export const StatsRequest = new RequestType<Record<string, never>, ProjectStats, void>('pairforge/stats');

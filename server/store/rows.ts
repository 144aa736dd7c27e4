// Row shapes of tables that several stages read. Each query selects the columns it needs as a
// `Pick` of these (plus whatever it joins in), so a column's type is written once.

/** A row of `targets` (migration 001): one fill-in-the-middle target of a solution or a history
 * version under a preset key. */
export interface TargetRecord {
  id: number;
  solution_id: number | null;
  version_id: number | null;
  preset: string;
  ordinal: number;
  kind: string;
  depth: number;
  start_line: number;
  end_line: number;
  pre: string;
  mid: string;
  suf: string;
}

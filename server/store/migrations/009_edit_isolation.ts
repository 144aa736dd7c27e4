// Schema version 9: a reviewer's edit keeps the sandbox isolation mode its tests ran in, as every
// stored verdict does (executions.sandbox, migration 2). The pairs stage owns pair_edits
// (migration 5); this adds a column and creates no table.
import type { Migration } from '../db';

export const editIsolation: Migration = {
  version: 9,
  name: 'pair edit isolation',
  tables: {},
  sql: `
    -- The isolation mode the edited program's tests ran in (protocol Isolation). NULL only for an
    -- edit saved by an engine older than this migration, which did not record it.
    ALTER TABLE pair_edits ADD COLUMN isolation TEXT CHECK (isolation IN ('bwrap-nobody', 'bwrap-root', 'bwrap-user', 'none'));
  `,
};

// Schema version 5: the review room's memory (the pairs stage's tables): every decision a reviewer
// makes, so undo works across reloads; reviewer-made chosen sides with what they replaced; and a
// full-text index over a pair's problem and both sides for the queue's search.
import type { Migration } from '../db';

export const review: Migration = {
  version: 5,
  name: 'pair reviews, pair edits, pair search',
  tables: { pair_edits: 'pairs', pair_reviews: 'pairs', pairs_search: 'pairs' },
  sql: `
    -- A reviewer-made chosen side: the text, the test run that judged it, and everything of the pair
    -- it replaced (restored by undo). An edit that is undone keeps its row (undone_at set).
    CREATE TABLE pair_edits (
      id                  INTEGER PRIMARY KEY,
      pair_id             INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      new_text            TEXT NOT NULL,
      -- The pair as it was: chosen text, spans, provenance, edit distance, flags.
      old_text            TEXT NOT NULL,
      old_chosen_spans    TEXT NOT NULL,
      old_rejected_spans  TEXT NOT NULL,
      old_provenance      TEXT NOT NULL,
      old_edit_distance   INTEGER,
      old_flags           TEXT NOT NULL,
      -- The verdict of the edited program's tests (JSON details as executions.details), if run.
      verdict             TEXT,
      details             TEXT,
      reviewer            TEXT NOT NULL,
      created_at          TEXT NOT NULL,
      undone_at           TEXT
    );
    CREATE INDEX pair_edits_pair ON pair_edits (pair_id);

    -- Every decision, oldest first. A batch (one key press on several pairs) is undone at once.
    CREATE TABLE pair_reviews (
      id          INTEGER PRIMARY KEY,
      batch       INTEGER NOT NULL,
      pair_id     INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      action      TEXT NOT NULL CHECK (action IN ('status', 'edit')),
      old_status  TEXT NOT NULL,
      new_status  TEXT NOT NULL,
      old_note    TEXT,
      new_note    TEXT,
      edit_id     INTEGER REFERENCES pair_edits(id),
      reviewer    TEXT NOT NULL,
      at          TEXT NOT NULL,
      undone_at   TEXT
    );
    CREATE INDEX pair_reviews_open ON pair_reviews (undone_at, batch);
    CREATE INDEX pair_reviews_at ON pair_reviews (at);

    -- The queue's sorts and filters over 100k pairs.
    CREATE INDEX pairs_edit_distance ON pairs (edit_distance);
    CREATE INDEX pairs_kind ON pairs (kind, block_kind, depth);

    -- Search over the problem text and both sides (unicode61 words; identifiers keep their _).
    -- Contentless: the texts live in pairs and problems; rows are kept in step by triggers.
    CREATE VIRTUAL TABLE pairs_search USING fts5(problem, chosen, rejected, content='', contentless_delete=1, tokenize="unicode61 tokenchars '_'");
    INSERT INTO pairs_search (rowid, problem, chosen, rejected)
      SELECT p.id, d.name || '/' || pr.external_id || ' ' || pr.question, p.chosen, p.rejected
      FROM pairs p JOIN problems pr ON pr.id = p.problem_id JOIN datasets d ON d.id = pr.dataset_id;
    CREATE TRIGGER pairs_search_insert AFTER INSERT ON pairs BEGIN
      INSERT INTO pairs_search (rowid, problem, chosen, rejected)
        SELECT NEW.id, d.name || '/' || pr.external_id || ' ' || pr.question, NEW.chosen, NEW.rejected
        FROM problems pr JOIN datasets d ON d.id = pr.dataset_id WHERE pr.id = NEW.problem_id;
    END;
    CREATE TRIGGER pairs_search_update AFTER UPDATE OF chosen, rejected ON pairs BEGIN
      DELETE FROM pairs_search WHERE rowid = OLD.id;
      INSERT INTO pairs_search (rowid, problem, chosen, rejected)
        SELECT NEW.id, d.name || '/' || pr.external_id || ' ' || pr.question, NEW.chosen, NEW.rejected
        FROM problems pr JOIN datasets d ON d.id = pr.dataset_id WHERE pr.id = NEW.problem_id;
    END;
    CREATE TRIGGER pairs_search_delete AFTER DELETE ON pairs BEGIN
      DELETE FROM pairs_search WHERE rowid = OLD.id;
    END;
  `,
};

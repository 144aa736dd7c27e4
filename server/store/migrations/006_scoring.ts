// Schema version 6: scoring runs and per-token DPO rewards (pairforge score / rewards;
// docs/scoring.md). Per-token values are little-endian binary arrays (server/scoring/blobs.ts),
// one row per (run, pair, side); character ranges are Unicode code points of the response.
import type { Migration } from '../db';

export const scoring: Migration = {
  version: 6,
  name: 'scoring runs, per-token rewards',
  tables: { score_runs: 'scoring', score_run_pairs: 'scoring', score_sides: 'scoring', score_skips: 'scoring', pair_scores: 'scoring', score_token_texts: 'scoring' },
  sql: `
    -- A run: a policy and a reference model (endpoints without keys), beta, how each pair is
    -- rendered (format, family, training sentence, special tokens) and which pairs. A later run with
    -- another policy (a trained checkpoint) sits beside it and the two can be compared.
    CREATE TABLE score_runs (
      id                 INTEGER PRIMARY KEY,
      -- What makes two runs "the same command" (models, beta, top-k, rendering, selection; not
      -- URLs or concurrency): \`pairforge score\` run again continues an unfinished run with it.
      spec_key           TEXT NOT NULL,
      policy             TEXT NOT NULL,
      reference          TEXT NOT NULL,
      policy_model       TEXT NOT NULL,
      reference_model    TEXT NOT NULL,
      beta               REAL NOT NULL,
      top_k              INTEGER NOT NULL,
      -- The format asked for: 'fim' (whole programs and IterPref pairs are always chat) or 'chat'.
      format             TEXT NOT NULL CHECK (format IN ('fim', 'chat')),
      family             TEXT NOT NULL,
      training_sentence  INTEGER NOT NULL,
      -- Whether the prompt was tokenized with add_special_tokens (the response never is).
      add_special_tokens INTEGER NOT NULL,
      selection          TEXT NOT NULL,
      -- JSON: the tokenizer probe both models agreed on (sha256 of its ids, token count), max_model_len.
      tokenizer          TEXT,
      status             TEXT NOT NULL CHECK (status IN ('running', 'done', 'stopped', 'failed')),
      message            TEXT,
      created_at         TEXT NOT NULL,
      finished_at        TEXT
    );
    CREATE INDEX score_runs_spec ON score_runs (spec_key);

    -- The pairs a run scores, fixed when it starts (an open-ended selection also takes pairs made
    -- since when it is continued).
    CREATE TABLE score_run_pairs (
      run_id  INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
      pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      PRIMARY KEY (run_id, pair_id)
    ) WITHOUT ROWID;

    -- One scored side, written once. text_sha256 is sha256(prompt || NUL || response) of what was
    -- scored, so a pair edited since is detected. Arrays have one value per response token:
    -- token_ids int32, char_ranges int32 pairs [start, end) in code points, loss_mask uint8,
    -- logp_policy / logp_ref float32; top_policy / top_ref (top_k > 0) per token top_k int32 ids
    -- then top_k float32 log-probs (id -1 where fewer were returned).
    CREATE TABLE score_sides (
      run_id              INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
      pair_id             INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      side                TEXT NOT NULL CHECK (side IN ('chosen', 'rejected')),
      format              TEXT NOT NULL CHECK (format IN ('fim', 'chat')),
      text_sha256         TEXT NOT NULL,
      prompt_tokens       INTEGER NOT NULL,
      tokens              INTEGER NOT NULL,
      spelling            TEXT NOT NULL,
      token_ids           BLOB NOT NULL,
      char_ranges         BLOB NOT NULL,
      loss_mask           BLOB NOT NULL,
      logp_policy         BLOB NOT NULL,
      logp_ref            BLOB NOT NULL,
      top_policy          BLOB,
      top_ref             BLOB,
      masked_tokens       INTEGER NOT NULL,
      masked_logp_policy  REAL NOT NULL,
      masked_logp_ref     REAL NOT NULL,
      reward_sum          REAL NOT NULL,
      masked_reward_sum   REAL NOT NULL,
      attempts            INTEGER NOT NULL,
      created_at          TEXT NOT NULL,
      PRIMARY KEY (run_id, pair_id, side)
    );

    -- Sides a run will not score, with why (the prompt does not fit the model's context, the token
    -- strings do not spell the response, ...).
    CREATE TABLE score_skips (
      run_id     INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
      pair_id    INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      side       TEXT NOT NULL CHECK (side IN ('chosen', 'rejected')),
      reason     TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (run_id, pair_id, side)
    );

    -- Per (run, pair) once both sides are scored: the masked reward of each side, the margin
    -- beta * ((sum lp_c - sum lr_c) - (sum lp_r - sum lr_r)) and whether the policy prefers the
    -- chosen side (margin > 0). Indexed so the review queue sorts a run's pairs by margin.
    CREATE TABLE pair_scores (
      run_id          INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
      pair_id         INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
      chosen_reward   REAL NOT NULL,
      rejected_reward REAL NOT NULL,
      margin          REAL NOT NULL,
      prefers_chosen  INTEGER NOT NULL,
      created_at      TEXT NOT NULL,
      PRIMARY KEY (run_id, pair_id)
    );
    CREATE INDEX pair_scores_margin ON pair_scores (run_id, margin);
    CREATE INDEX pair_scores_pair ON pair_scores (pair_id);

    -- The text of the alternative tokens a run's top-k lists hold (the server's decoded_token).
    CREATE TABLE score_token_texts (
      run_id   INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
      token_id INTEGER NOT NULL,
      text     TEXT NOT NULL,
      PRIMARY KEY (run_id, token_id)
    ) WITHOUT ROWID;
  `,
};

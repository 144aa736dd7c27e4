// Schema version 8: training runs sent to a GPU host over ssh and their metrics (pairforge train;
// docs/training.md "Runs"). A run row is written before anything leaves the machine and updated as
// the run goes, so a run survives the editor's and the CLI's restarts: its log is followed again
// from the host, and its metrics so far are here.
import type { Migration } from '../db';

export const training: Migration = {
  version: 8,
  name: 'training runs, metrics',
  tables: { training_runs: 'training', training_metrics: 'training' },
  sql: `
    CREATE TABLE training_runs (
      id                    INTEGER PRIMARY KEY,
      -- The run folder's name under remote_dir.
      name                  TEXT NOT NULL,
      -- The ssh destination as given (a Host alias or [user@]host), the ssh config file (-F) and
      -- extra -o options (JSON list) it was reached with: following it again uses the same.
      host                  TEXT NOT NULL,
      ssh_config            TEXT,
      ssh_options           TEXT NOT NULL DEFAULT '[]',
      -- The folder of run folders as given ('~/pairforge-runs'), and the run folder once made (absolute).
      remote_dir            TEXT NOT NULL,
      run_dir               TEXT,
      launcher              TEXT NOT NULL,
      -- The launcher command as written into the run folder (launch.sh).
      launch_command        TEXT,
      python                TEXT NOT NULL,
      model                 TEXT,
      tiny                  INTEGER NOT NULL,
      -- config.json as sent.
      config                TEXT NOT NULL,
      -- The export sent: sha256 of pairs.trl.jsonl (the manifest's), pairs, records, options (JSON).
      export_sha256         TEXT,
      export_pairs          INTEGER,
      export_records        INTEGER,
      export_options        TEXT,
      -- The project's record of that export (migration 007: exports).
      export_id             INTEGER REFERENCES exports(id) ON DELETE SET NULL,
      -- rsync's figures of the upload: bytes sent in all, and new data among them.
      upload_bytes          INTEGER,
      upload_literal_bytes  INTEGER,
      status                TEXT NOT NULL CHECK (status IN ('uploading', 'running', 'succeeded', 'failed', 'stopped', 'lost')),
      message               TEXT,
      -- The trainer's status.json as last read: state, step, max_steps, epoch.
      trainer_state         TEXT,
      step                  INTEGER,
      max_steps             INTEGER,
      epoch                 REAL,
      exit_code             INTEGER,
      -- The wrapper's pid on the host.
      remote_pid            INTEGER,
      -- The local process sending it ('hostname pid') while it is uploading: a send cut short (the
      -- process is gone) is told from one still going.
      sender                TEXT,
      -- Bytes of the host's metrics.jsonl already stored (complete lines only).
      metrics_offset        INTEGER NOT NULL DEFAULT 0,
      -- The scoring run the held-out per-token log-probs were imported as.
      score_run_id          INTEGER REFERENCES score_runs(id) ON DELETE SET NULL,
      created_at            TEXT NOT NULL,
      started_at            TEXT,
      finished_at           TEXT,
      stop_requested_at     TEXT,
      updated_at            TEXT NOT NULL
    );
    CREATE UNIQUE INDEX training_runs_folder ON training_runs (host, remote_dir, name);

    -- metrics.jsonl of a run, one row per line (1-based), as the trainer wrote it.
    CREATE TABLE training_metrics (
      run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
      line   INTEGER NOT NULL,
      step   INTEGER,
      data   TEXT NOT NULL,
      PRIMARY KEY (run_id, line)
    ) WITHOUT ROWID;
  `,
};

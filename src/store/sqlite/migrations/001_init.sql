-- livestats SQLite schema v1.
-- Times are integers: http minutes as epoch minutes, carousel seconds as epoch seconds.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Resume positions of ingest sources, committed in the same transaction as the counts they cover.
CREATE TABLE checkpoints (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per (project, play domain); counts refer to it by id.
CREATE TABLE series (
  id      INTEGER PRIMARY KEY,
  project TEXT NOT NULL,
  domain  TEXT NOT NULL,
  UNIQUE (project, domain)
);

-- Requests per minute by province, carrier and status code. Keyed so that region/isp
-- filters are index seeks followed by a minute range scan.
CREATE TABLE http_counts (
  series INTEGER NOT NULL,
  region TEXT    NOT NULL,
  isp    TEXT    NOT NULL,
  minute INTEGER NOT NULL,
  code   INTEGER NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (series, region, isp, minute, code)
) WITHOUT ROWID;

-- The same counts summed over region and isp, written in the same transaction:
-- queries without region/isp filters read this and never touch per-region rows.
CREATE TABLE http_counts_total (
  series INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  code   INTEGER NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (series, minute, code)
) WITHOUT ROWID;

CREATE TABLE carousel_tasks (
  id             INTEGER PRIMARY KEY,
  project        TEXT    NOT NULL,
  task_id        TEXT    NOT NULL,
  created_at     INTEGER NOT NULL,
  last_sample_at INTEGER,
  UNIQUE (project, task_id)
);

CREATE TABLE carousel_samples (
  task       INTEGER NOT NULL,
  second     INTEGER NOT NULL,
  video_fps  INTEGER NOT NULL,
  video_kbps INTEGER NOT NULL,
  audio_fps  INTEGER NOT NULL,
  audio_kbps INTEGER NOT NULL,
  PRIMARY KEY (task, second)
) WITHOUT ROWID;

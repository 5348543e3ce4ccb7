-- livestats ClickHouse schema v1. Valid on ClickHouse 18.16 and current releases.
-- Templated only through ident(): {db} is the database, {t:NAME} is the table that stores
-- NAME's rows on this server (NAME itself, or NAME_local in cluster mode, where a Distributed
-- table NAME over NAME_local is created next to it). Times are UInt32 epoch minutes/seconds,
-- so day partitions are UTC days whatever the server's time zone. Statements are separated
-- by a line holding only ";" and each is idempotent (IF NOT EXISTS). {distribute:NAME BY expr}
-- becomes, in cluster mode only, the Distributed table NAME over NAME_local sharded by expr.

-- Requests per minute by province, carrier and status code. Rows with the same key are
-- summed by background merges; queries always sum() at read time, so they are exact before
-- merges. Rows with batch <> '' are write markers (code 0, count 0, markers 1): one per
-- (insert chunk, project, domain, day), inserted in the same INSERT, hence the same part, as
-- the rows they vouch for. A retried write checks them to skip what already landed.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts} (
  project String,
  domain  String,
  minute  UInt32,
  region  String,
  isp     String,
  code    UInt16,
  batch   String,
  count   UInt64,
  markers UInt64
) ENGINE = SummingMergeTree((count, markers))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, region, isp, code, batch)
;
{distribute:http_counts BY cityHash64(project, domain)}
;
-- Per-second carousel samples. A later sample for the same second has a higher version;
-- merges keep it, queries pick it with argMax(value, version).
CREATE TABLE IF NOT EXISTS {db}.{t:carousel_samples} (
  project    String,
  task_id    String,
  second     UInt32,
  version    UInt64,
  video_fps  UInt32,
  video_kbps UInt32,
  audio_fps  UInt32,
  audio_kbps UInt32
) ENGINE = ReplacingMergeTree(version)
PARTITION BY intDiv(second, 86400)
ORDER BY (project, task_id, second)
;
{distribute:carousel_samples BY cityHash64(project, task_id)}
;
-- The task registry: read with min(created_at), max(last_sample) (0 = no sample yet).
CREATE TABLE IF NOT EXISTS {db}.{t:carousel_tasks} (
  project     String,
  task_id     String,
  created_at  UInt64,
  last_sample UInt32
) ENGINE = ReplacingMergeTree(last_sample)
ORDER BY (project, task_id)
;
{distribute:carousel_tasks BY cityHash64(project, task_id)}
;
-- Ingest resume positions and small settings: latest version wins (argMax at read time).
CREATE TABLE IF NOT EXISTS {db}.{t:checkpoints} (
  key     String,
  value   String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY key
;
{distribute:checkpoints BY cityHash64(key)}
;
CREATE TABLE IF NOT EXISTS {db}.{t:meta} (
  key     String,
  value   String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY key
;
{distribute:meta BY cityHash64(key)}

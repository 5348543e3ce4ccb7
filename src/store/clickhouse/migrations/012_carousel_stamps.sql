-- livestats ClickHouse schema v12: hour stamps of the carousel samples (issue 24), what lets a node keep
-- closed hours of a task's samples in memory (carousel-blocks.ts) and still answer exactly while other
-- nodes write. The same scheme as the request counts' stamps (008): one row per (project, task, hour)
-- per insert into carousel_samples, rows = the rows inserted, tags = the sum (mod 2^64) of a hash of each
-- row (a newer version of a second changes it too); a retried write adds a bump row (rows 0, a random
-- tag) for every hour it touches (ClickHouseStore.writeSamples). Same conventions as 001_init.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:carousel_stamps} (
  project String,
  task_id String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(hour, 24)
ORDER BY (project, task_id, hour)
;
{distribute:carousel_stamps BY cityHash64(project, task_id)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:carousel_stamps_from_samples} TO {db}.{t:carousel_stamps} AS
SELECT project, task_id, intDiv(second, 3600) AS hour, count() AS rows,
  sum(cityHash64(second, version, video_fps, video_kbps, audio_fps, audio_kbps)) AS tags
FROM {db}.{t:carousel_samples} GROUP BY project, task_id, hour

-- livestats ClickHouse schema 007: per-second quality of probed live streams (issue 23). The layout of
-- carousel_samples (001_init.sql) with the publish stream as the key and four more measures: a later
-- sample for the same second has a higher version; queries pick it with argMax(value, version).
-- Milliseconds (gop, pts, delay) are UInt64.
CREATE TABLE IF NOT EXISTS {db}.{t:stream_quality} (
  project    String,
  domain     String,
  app        String,
  stream     String,
  second     UInt32,
  version    UInt64,
  video_fps  UInt32,
  video_kbps UInt32,
  audio_fps  UInt32,
  audio_kbps UInt32,
  gop_ms     UInt64,
  video_pts  UInt64,
  audio_pts  UInt64,
  delay_ms   UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY intDiv(second, 86400)
ORDER BY (project, domain, app, stream, second)
;
{distribute:stream_quality BY cityHash64(project, domain, app, stream)}
;

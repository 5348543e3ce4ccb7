-- livestats ClickHouse schema 006: the publish side (issue 23, origin-api.md). Same conventions as
-- 001_init.sql. Times are epoch ms (UInt64); end_ms = 0 while a session is open.

-- Publish sessions: the newest write (updated_at) of a session id wins (read with FINAL). The id,
-- domain and start of a session never change, so its rows share one partition and one sort key.
CREATE TABLE IF NOT EXISTS {db}.{t:origin_sessions} (
  project     String,
  id          String,
  domain      String,
  app         String,
  stream      String,
  client_ip   String,
  type        UInt8,
  region      String,
  isp         String,
  video_codec String,
  audio_codec String,
  frame_rate  UInt32,
  bitrate     UInt32,
  width       UInt32,
  height      UInt32,
  start_ms    UInt64,
  end_ms      UInt64,
  origin      String,
  bytes_in    UInt64,
  updated_at  UInt64
) ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY intDiv(start_ms, 2592000000)
ORDER BY (project, domain, start_ms, id)
;
{distribute:origin_sessions BY cityHash64(project, domain)}
;
-- Input bytes per 5-minute slot (UInt32 epoch slot, epoch seconds / 300), added up.
CREATE TABLE IF NOT EXISTS {db}.{t:origin_up_bytes} (
  project String,
  domain  String,
  slot    UInt32,
  app     String,
  stream  String,
  region  String,
  isp     String,
  type    UInt8,
  bytes   UInt64
) ENGINE = SummingMergeTree(bytes)
PARTITION BY intDiv(slot, 288)
ORDER BY (project, domain, slot, app, stream, region, isp, type)
;
{distribute:origin_up_bytes BY cityHash64(project, domain)}
;
-- RTMP play sessions (on_play .. on_play_done), newest write wins.
CREATE TABLE IF NOT EXISTS {db}.{t:origin_plays} (
  project    String,
  id         String,
  domain     String,
  app        String,
  stream     String,
  client_ip  String,
  region     String,
  isp        String,
  start_ms   UInt64,
  end_ms     UInt64,
  updated_at UInt64
) ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY intDiv(start_ms, 2592000000)
ORDER BY (project, start_ms, id)
;
{distribute:origin_plays BY cityHash64(project)}

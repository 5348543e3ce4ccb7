-- livestats ClickHouse schema v5: the audience cube (issue 21, audience-api.md). Same conventions as
-- 001_init.sql. minute is the UInt32 epoch minute, day the UInt32 epoch day; every table is
-- partitioned by UTC day number, so retention drops whole days.

-- Additive cells per (domain, app, stream, protocol, province, carrier, minute): FLV sessions
-- overlapping the minute (viewers), play milliseconds inside it, bytes and lines of the lines logged
-- in it. Rows with batch <> '' are write markers, one per (insert chunk, project, day) in the same
-- INSERT as the rows of that day partition, so a retried batch inserts only what is missing.
CREATE TABLE IF NOT EXISTS {db}.{t:audience_cells} (
  project  String,
  domain   String,
  minute   UInt32,
  app      String,
  stream   String,
  protocol String,
  region   String,
  isp      String,
  batch    String,
  viewers  UInt64,
  bytes    UInt64,
  requests UInt64,
  play_ms  UInt64,
  markers  UInt64
) ENGINE = SummingMergeTree((viewers, bytes, requests, play_ms, markers))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, app, stream, protocol, region, isp, batch)
;
{distribute:audience_cells BY cityHash64(project, domain)}
;
-- HLS viewers: one row per (client IP, stream, minute) seen; a repeated row (another batch, a
-- retry) is the same viewer: reads count distinct (app, stream, ip) per minute, and merges drop repeats.
CREATE TABLE IF NOT EXISTS {db}.{t:audience_hls} (
  project String,
  domain  String,
  minute  UInt32,
  app     String,
  stream  String,
  region  String,
  isp     String,
  ip      String
) ENGINE = ReplacingMergeTree
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, app, stream, region, isp, ip)
;
{distribute:audience_hls BY cityHash64(project, domain)}
;
-- Users: the client IPs of each (domain, stream) on a UTC day, every protocol (user_count).
CREATE TABLE IF NOT EXISTS {db}.{t:audience_users} (
  project String,
  domain  String,
  day     UInt32,
  stream  String,
  ip      String
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (project, domain, day, stream, ip)
;
{distribute:audience_users BY cityHash64(project, domain)}

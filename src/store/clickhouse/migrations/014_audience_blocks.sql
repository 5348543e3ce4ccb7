-- livestats ClickHouse schema 014: hour stamps of the audience cube (issue 24), what lets a node keep
-- closed hours of a domain's viewers in memory (audience-blocks.ts) and still answer exactly while
-- other nodes write. The same scheme as the request counts' (008) and the traffic cube's (009): one
-- row per (project, domain, hour) per insert into audience_cells, audience_sessions or audience_hls,
-- rows = the rows inserted, tags = the sum (mod 2^64) of a hash of each row (the table's own salt,
-- so equal rows of two tables do not cancel out); a retried audience write adds a bump row (rows 0,
-- a random tag) for every hour it touches (ClickHouseAudience.write). audience_users has day stamps
-- of their own (below). Same conventions as 001_init.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:audience_stamps} (
  project String,
  domain  String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(hour, 24)
ORDER BY (project, domain, hour)
;
{distribute:audience_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_stamps_from_cells} TO {db}.{t:audience_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64('cells', minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers)) AS tags
FROM {db}.{t:audience_cells} GROUP BY project, domain, hour
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_stamps_from_sessions} TO {db}.{t:audience_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64('sessions', minute, app, stream, protocol, region, isp, batch, opens, closes, markers)) AS tags
FROM {db}.{t:audience_sessions} GROUP BY project, domain, hour
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_stamps_from_hls} TO {db}.{t:audience_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64('hls', minute, app, stream, region, isp, ip)) AS tags
FROM {db}.{t:audience_hls} GROUP BY project, domain, hour
;
-- The day stamps of audience_users (a whole domain's portrait keeps its day's distinct users in the
-- node: AudienceUsersBlocks in audience-blocks.ts): one row per (project, domain, day) per insert,
-- the same rows and tags; `hour` holds the UTC day number (the column name every stamps read uses).
CREATE TABLE IF NOT EXISTS {db}.{t:audience_users_stamps} (
  project String,
  domain  String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY hour
ORDER BY (project, domain, hour)
;
{distribute:audience_users_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_users_stamps_from_users} TO {db}.{t:audience_users_stamps} AS
SELECT project, domain, day AS hour, count() AS rows, sum(cityHash64(day, stream, ip)) AS tags
FROM {db}.{t:audience_users} GROUP BY project, domain, hour

-- livestats ClickHouse schema 017: day stamps of the audience cube (issue 24), so a node checks the closed
-- UTC days of a domain's audience blocks (audience-blocks.ts: the users series, 31 d is 744 hours) by
-- reading one row per (project, domain, day) instead of its 24 hour stamps of 014: 31 rows, from one or
-- two partitions, instead of 744 from 31. The views follow 014's three, with their very hashes (a view on
-- audience_stamps would not do: 18.16 does not run the views of a view's target table), so per insert the
-- day row is the sum of the insert's hour rows: rows summed, tags summed mod 2^64 (UInt64); a retried
-- write's bump rows go into both tables with the same tags (ClickHouseAudience.bumpStamps). So a day's
-- stamp is the sum of its 24 hour stamps. `day` is the UTC day number (intDiv(minute, 1440)). A database
-- made before 017 gets its day stamps from the hour stamps when the migration runs (schema.ts,
-- backfillDayStamps); a day stamp that differs from its hours' sum (an insert whose two stamps did not
-- both land) is repaired by the node that finds its 24 hours current (repairDayStamps); until then that
-- day's hours are read by SQL. Partitions of 32 days, each named by its last UTC day (as 015's; retention
-- drops one once its last day is before the cutoff). Same conventions as 001_init.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:audience_day_stamps} (
  project String,
  domain  String,
  day     UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(day, 32) * 32 + 31
ORDER BY (project, domain, day)
;
{distribute:audience_day_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_cells} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('cells', minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers)) AS tags
FROM {db}.{t:audience_cells} GROUP BY project, domain, day
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_sessions} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('sessions', minute, app, stream, protocol, region, isp, batch, opens, closes, markers)) AS tags
FROM {db}.{t:audience_sessions} GROUP BY project, domain, day
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_hls} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('hls', minute, app, stream, region, isp, ip)) AS tags
FROM {db}.{t:audience_hls} GROUP BY project, domain, day

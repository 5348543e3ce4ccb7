-- livestats ClickHouse schema 015: day stamps of the traffic cube's per-domain table (issue 24), so a
-- node checks its day blocks of closed UTC days (traffic-blocks.ts, day-stamps.ts) by reading one row
-- per (project, domain, day) instead of summing the day's 24 hour stamps of 009 in every read.
-- Its view follows traffic_domains with 009's very hash (a view on traffic_stamps would not do:
-- 18.16 does not run the views of a view's target table), so per insert the day row is the sum of
-- the insert's hour rows: rows summed, tags summed mod 2^64 (UInt64); a retried write's bump row
-- goes into both tables with the same tag (ClickHouseTraffic.bumpStamps). So a day's stamp is the
-- sum of its 24 hour stamps. `day` is the UTC day number (intDiv(hour, 24)). A database made before 015
-- gets its day stamps from the hour stamps when the migration runs (schema.ts, backfillDayStamps).
-- Partitions of 32 days, each named by its last UTC day (a read of 7 or 31 days touches one or two of
-- them, so a few parts; by day it touched a part or more per day, and each part read costs
-- clickhouse-server ~0.2 ms whatever its rows, measured): retention (retentionDrops) drops one once its
-- last day is before the cutoff, so up to 31 days of day stamps older than the traffic are kept, never
-- read (the traffic endpoints look back no further than the retention).
-- Same conventions as 001_init.sql.
-- Since migration 016 the view below is replaced by one that hashes only the rows with markers = 0
-- (a write chunk's marker row no longer changes the stamp of its day's 00:00 hour): 016_stamps_without_markers.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_day_stamps} (
  project String,
  domain  String,
  day     UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(day, 32) * 32 + 31
ORDER BY (project, domain, day)
;
{distribute:traffic_day_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_day_stamps_from_domains} TO {db}.{t:traffic_day_stamps} AS
SELECT project, domain, intDiv(slot, 288) AS day, count() AS rows,
  sum(cityHash64(slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_domains} GROUP BY project, domain, day

-- livestats ClickHouse schema 018: coarse stamps of the traffic cube's per-domain table, one row per
-- (project, UTC day) (issue 24), beside the per-(project, domain, day) stamps of 015 and the hour stamps
-- of 009. A node reads these ~8 rows for a 7-day window and reuses the fine stamps it read before for
-- every day whose coarse stamp has not moved since (coarse-stamps.ts); only the days that moved (today,
-- while ingest runs) have their fine stamps read again.
-- Its view follows traffic_domains with the very hash of 016's hour and day views (rows with markers = 0
-- only), so a project's day stamp here is the sum, over all its domains, of their day stamps (015) and of
-- their hour stamps (009): rows summed, tags summed mod 2^64. A retried write's bump row goes into this
-- table too, with the tag of its hour (ClickHouseTraffic.bumpStamps). A database made before 018 gets
-- these stamps from its hour stamps when the migration runs (schema.ts, backfillProjectDayStamps).
-- Partitions as 015 (32 days, named by the last one), dropped by retention with the traffic.
-- Same conventions as 001_init.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_project_day_stamps} (
  project String,
  day     UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(day, 32) * 32 + 31
ORDER BY (project, day)
;
{distribute:traffic_project_day_stamps BY cityHash64(project)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_project_day_stamps_from_domains} TO {db}.{t:traffic_project_day_stamps} AS
SELECT project, intDiv(slot, 288) AS day, count() AS rows,
  sum(cityHash64(slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_domains} WHERE markers = 0 GROUP BY project, day

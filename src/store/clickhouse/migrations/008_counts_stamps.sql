-- livestats ClickHouse schema v8: hour stamps of the request counts (issue 24), what lets a node keep
-- closed hours of counts in memory (hour-blocks.ts) and still answer exactly while other nodes write.
-- Same conventions as 001_init.sql.
--
-- One row per (project, domain, hour) per insert into a detail table (http_counts, http_counts_bytes):
-- rows = the rows inserted, tags = the sum (mod 2^64) of a hash of each row. Any insert into an hour
-- changes its stamp; two replicas holding the same inserts have the same stamp. A view runs after the
-- insert's own parts are committed, so a stamp never counts rows the detail tables do not show yet.
-- A retried write that finds an earlier attempt landed adds a bump row (rows 0, a random tag), so an
-- hour is never left with a stamp that missed rows whose view failed (ClickHouseStore.writeCounts).
-- Views on views do not fire in 18.16, so the stamps follow the detail tables, not the rollups, and
-- a node builds its hour blocks from the detail tables.
-- Since migration 016 the views below are replaced by ones that hash only the rows with markers = 0
-- (a write chunk's marker row no longer changes the stamp of its day's 00:00 hour): 016_stamps_without_markers.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts_stamps} (
  project String,
  domain  String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(hour, 24)
ORDER BY (project, domain, hour)
;
{distribute:http_counts_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_stamps_from_bytes} TO {db}.{t:http_counts_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64(minute, region, isp, code, batch, count, markers, bytes)) AS tags
FROM {db}.{t:http_counts_bytes} GROUP BY project, domain, hour
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_stamps_from_v1} TO {db}.{t:http_counts_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64(minute, region, isp, code, batch, count, markers)) AS tags
FROM {db}.{t:http_counts} GROUP BY project, domain, hour

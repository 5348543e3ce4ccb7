-- livestats ClickHouse schema v9: hour stamps of the traffic cube's per-domain table (issue 24), what
-- lets a node keep closed hours of traffic totals in memory (traffic-blocks.ts) and still answer
-- exactly while other nodes write. The same scheme as the request counts' stamps (008): one row per
-- (project, domain, hour) per insert into traffic_domains, rows = the rows inserted, tags = the sum
-- (mod 2^64) of a hash of each row; a retried traffic write adds a bump row (rows 0, a random tag)
-- for every hour it touches (ClickHouseTraffic.write). Same conventions as 001_init.sql.
-- Since migration 016 the view below is replaced by one that hashes only the rows with markers = 0
-- (a write chunk's marker row no longer changes the stamp of its day's 00:00 hour): 016_stamps_without_markers.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_stamps} (
  project String,
  domain  String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(hour, 24)
ORDER BY (project, domain, hour)
;
{distribute:traffic_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_stamps_from_domains} TO {db}.{t:traffic_stamps} AS
SELECT project, domain, intDiv(slot, 12) AS hour, count() AS rows,
  sum(cityHash64(slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_domains} GROUP BY project, domain, hour

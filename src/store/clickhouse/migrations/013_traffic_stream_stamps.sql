-- livestats ClickHouse schema v13: hour stamps of the traffic cube's per-stream table (issue 24), what
-- lets a node keep closed hours of per-stream traffic cells in memory (traffic-cells.ts) and still answer
-- exactly while other nodes write. Inserts into traffic_streams change no stamp of 009 (that view follows
-- traffic_domains, a separate INSERT that may land before or after it), so this table follows
-- traffic_streams the same way: one row per (project, domain, hour) per insert, rows = the rows inserted,
-- tags = the sum (mod 2^64) of a hash of each row; a retried traffic write adds a bump row (rows 0, a
-- random tag) here too for every hour it touches (ClickHouseTraffic.write). Same conventions as 001_init.sql.
-- Since migration 016 the view below is replaced by one that hashes only the rows with markers = 0
-- (a write chunk's marker row no longer changes the stamp of its day's 00:00 hour): 016_stamps_without_markers.sql.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_stream_stamps} (
  project String,
  domain  String,
  hour    UInt32,
  rows    UInt64,
  tags    UInt64
) ENGINE = SummingMergeTree((rows, tags))
PARTITION BY intDiv(hour, 24)
ORDER BY (project, domain, hour)
;
{distribute:traffic_stream_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_stream_stamps_from_streams} TO {db}.{t:traffic_stream_stamps} AS
SELECT project, domain, intDiv(slot, 12) AS hour, count() AS rows,
  sum(cityHash64(slot, app, stream, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_streams} GROUP BY project, domain, hour

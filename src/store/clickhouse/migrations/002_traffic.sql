-- livestats ClickHouse schema v2: the traffic cube (issue 14). Same conventions as 001_init.sql.
-- slot is the UInt32 epoch 5-minute slot (epoch seconds / 300), so a UTC day is 288 slots and
-- day partitions are intDiv(slot, 288). Rows with batch <> '' are write markers, exactly as in
-- http_counts: one per (insert chunk, project, domain, day) in each table, in the same INSERT.

-- Per stream: every (app, stream, protocol, province, carrier, address family) with traffic.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_streams} (
  project  String,
  domain   String,
  slot     UInt32,
  app      String,
  stream   String,
  protocol String,
  region   String,
  isp      String,
  ip_type  String,
  batch    String,
  requests UInt64,
  bytes    UInt64,
  markers  UInt64
) ENGINE = SummingMergeTree((requests, bytes, markers))
PARTITION BY intDiv(slot, 288)
ORDER BY (project, domain, slot, app, stream, protocol, region, isp, ip_type, batch)
;
{distribute:traffic_streams BY cityHash64(project, domain)}
;
-- The rollup without app and stream, written from the same batch: queries without app/stream
-- (every per-domain, summary and peak query) read it instead of every stream's rows.
CREATE TABLE IF NOT EXISTS {db}.{t:traffic_domains} (
  project  String,
  domain   String,
  slot     UInt32,
  protocol String,
  region   String,
  isp      String,
  ip_type  String,
  batch    String,
  requests UInt64,
  bytes    UInt64,
  markers  UInt64
) ENGINE = SummingMergeTree((requests, bytes, markers))
PARTITION BY intDiv(slot, 288)
ORDER BY (project, domain, slot, protocol, region, isp, ip_type, batch)
;
{distribute:traffic_domains BY cityHash64(project, domain)}

-- livestats ClickHouse schema 016: the stamp views hash only the rows with markers = 0 (issue 24).
-- Every write chunk adds one marker row per (project, domain, UTC day) at the START of the day (minute
-- or slot of 00:00, batch = the chunk's tag, markers = 1: batch.ts, traffic-batch.ts). The views of 008,
-- 009, 013 and 015 hashed every inserted row, markers included, so while ingest ran every chunk changed
-- the stamp of today's 00:00 hour (and of today's day stamp) for each domain it touched: that hour's
-- block was never current, and its rebuilds were started and discarded again and again.
-- Exact: no block reads a marker row (hour blocks read code > 0, the traffic blocks and cells read
-- batch = ''; marker rows have code 0 and batch != ''; every data row has markers = 0), so a stamp
-- need only change with the rows a block can read. A retried write's bump rows are unchanged.
-- Each new view is made BEFORE its old one is dropped: an insert landing in between fires both, so a
-- stamp then changes more, never less (a block goes stale, never wrongly current). The hour view of
-- traffic_stamps and the day view of traffic_day_stamps switch one after the other: an insert landing
-- between the two switches leaves a day stamp that differs from its hours' sum, which the node repairs
-- when it finds the day's 24 hours current (day-stamps-backfill.ts, repairDayStamps); until then that
-- day is read by SQL. Same conventions as 001_init.sql; in cluster mode each server runs it on its
-- own local tables ({t:NAME} is NAME_local there).
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_stamps_from_bytes_v2} TO {db}.{t:http_counts_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64(minute, region, isp, code, batch, count, markers, bytes)) AS tags
FROM {db}.{t:http_counts_bytes} WHERE markers = 0 GROUP BY project, domain, hour
;
DROP TABLE IF EXISTS {db}.{t:http_counts_stamps_from_bytes}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_stamps_from_v1_v2} TO {db}.{t:http_counts_stamps} AS
SELECT project, domain, intDiv(minute, 60) AS hour, count() AS rows,
  sum(cityHash64(minute, region, isp, code, batch, count, markers)) AS tags
FROM {db}.{t:http_counts} WHERE markers = 0 GROUP BY project, domain, hour
;
DROP TABLE IF EXISTS {db}.{t:http_counts_stamps_from_v1}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_stamps_from_domains_v2} TO {db}.{t:traffic_stamps} AS
SELECT project, domain, intDiv(slot, 12) AS hour, count() AS rows,
  sum(cityHash64(slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_domains} WHERE markers = 0 GROUP BY project, domain, hour
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_day_stamps_from_domains_v2} TO {db}.{t:traffic_day_stamps} AS
SELECT project, domain, intDiv(slot, 288) AS day, count() AS rows,
  sum(cityHash64(slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_domains} WHERE markers = 0 GROUP BY project, domain, day
;
DROP TABLE IF EXISTS {db}.{t:traffic_stamps_from_domains}
;
DROP TABLE IF EXISTS {db}.{t:traffic_day_stamps_from_domains}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:traffic_stream_stamps_from_streams_v2} TO {db}.{t:traffic_stream_stamps} AS
SELECT project, domain, intDiv(slot, 12) AS hour, count() AS rows,
  sum(cityHash64(slot, app, stream, protocol, region, isp, ip_type, batch, requests, bytes, markers)) AS tags
FROM {db}.{t:traffic_streams} WHERE markers = 0 GROUP BY project, domain, hour
;
DROP TABLE IF EXISTS {db}.{t:traffic_stream_stamps_from_streams}

-- livestats ClickHouse schema v4: rollups of the request counts (issue 12), as the SQLite store keeps
-- them. A query reads the smallest table its filter allows: region and isp -> the detail tables
-- (http_counts + http_counts_bytes), region only -> http_counts_region, isp only -> http_counts_isp,
-- neither -> http_counts_all. Same conventions as 001_init.sql.
--
-- The rollups are filled by materialized views on BOTH detail tables, so every insert into them
-- (this version's, an older node's v1 or v3 rows) reaches every level with no change to writers.
-- A view runs on the inserted block after the block's parts are committed in the detail table,
-- with the same rows: write markers (batch <> '') pass through, so a retried write sees per table
-- what landed (see rollups.ts: a group present in the detail table but missing in a rollup, the
-- view having failed, is inserted into that rollup directly). The rollup key puts region/isp
-- before minute: a filter on one value reads only that value's rows. Existing rows are copied in
-- by the backfill step of this migration (rollups.ts), one part per day, with a marker row.
-- index_granularity 1024 (8192 by default): one domain's rows of one value in one day are a few
-- thousand, so the default granules made a one-value filter read several times the rows it needs.

-- Counts per (project, domain, minute, code), summed over the other dimensions.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts_all} (
  project String,
  domain  String,
  minute  UInt32,
  code    UInt16,
  batch   String,
  count   UInt64,
  markers UInt64,
  bytes   UInt64
) ENGINE = SummingMergeTree((count, markers, bytes))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, code, batch)
SETTINGS index_granularity = 1024
;
{distribute:http_counts_all BY cityHash64(project, domain)}
;
-- Counts per (project, domain, region, minute, code), summed over the other dimensions.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts_region} (
  project String,
  domain  String,
  region  String,
  minute  UInt32,
  code    UInt16,
  batch   String,
  count   UInt64,
  markers UInt64,
  bytes   UInt64
) ENGINE = SummingMergeTree((count, markers, bytes))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, region, minute, code, batch)
SETTINGS index_granularity = 1024
;
{distribute:http_counts_region BY cityHash64(project, domain)}
;
-- Counts per (project, domain, isp, minute, code), summed over the other dimensions.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts_isp} (
  project String,
  domain  String,
  isp     String,
  minute  UInt32,
  code    UInt16,
  batch   String,
  count   UInt64,
  markers UInt64,
  bytes   UInt64
) ENGINE = SummingMergeTree((count, markers, bytes))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, isp, minute, code, batch)
SETTINGS index_granularity = 1024
;
{distribute:http_counts_isp BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_all_from_bytes} TO {db}.{t:http_counts_all} AS
SELECT project, domain, minute, code, batch, sum(count) AS count, sum(markers) AS markers, sum(bytes) AS bytes
FROM {db}.{t:http_counts_bytes} GROUP BY project, domain, minute, code, batch
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_all_from_v1} TO {db}.{t:http_counts_all} AS
SELECT project, domain, minute, code, batch, sum(count) AS count, sum(markers) AS markers, toUInt64(0) AS bytes
FROM {db}.{t:http_counts} GROUP BY project, domain, minute, code, batch
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_region_from_bytes} TO {db}.{t:http_counts_region} AS
SELECT project, domain, region, minute, code, batch, sum(count) AS count, sum(markers) AS markers, sum(bytes) AS bytes
FROM {db}.{t:http_counts_bytes} GROUP BY project, domain, region, minute, code, batch
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_region_from_v1} TO {db}.{t:http_counts_region} AS
SELECT project, domain, region, minute, code, batch, sum(count) AS count, sum(markers) AS markers, toUInt64(0) AS bytes
FROM {db}.{t:http_counts} GROUP BY project, domain, region, minute, code, batch
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_isp_from_bytes} TO {db}.{t:http_counts_isp} AS
SELECT project, domain, isp, minute, code, batch, sum(count) AS count, sum(markers) AS markers, sum(bytes) AS bytes
FROM {db}.{t:http_counts_bytes} GROUP BY project, domain, isp, minute, code, batch
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:http_counts_isp_from_v1} TO {db}.{t:http_counts_isp} AS
SELECT project, domain, isp, minute, code, batch, sum(count) AS count, sum(markers) AS markers, toUInt64(0) AS bytes
FROM {db}.{t:http_counts} GROUP BY project, domain, isp, minute, code, batch

-- livestats ClickHouse schema 011: the publish side's per-slot pre-aggregate (issue 23). Input bytes per
-- (domain, type, 5-minute slot, region, isp) without app and stream: what ShowUpBandwidth sums when it
-- is not asked for one stream, one row per slot and publisher region/carrier instead of one per stream.
-- Written with origin_up_bytes by the same intake flush; filled from origin_up_bytes when this
-- migration runs (origin-slots.ts). Partitions are UTC days like origin_up_bytes (slot / 288).
CREATE TABLE IF NOT EXISTS {db}.{t:origin_up_domain} (
  project String,
  domain  String,
  type    UInt8,
  slot    UInt32,
  region  String,
  isp     String,
  bytes   UInt64
) ENGINE = SummingMergeTree(bytes)
PARTITION BY intDiv(slot, 288)
ORDER BY (project, domain, type, slot, region, isp)
;
{distribute:origin_up_domain BY cityHash64(project, domain)}
;

-- livestats ClickHouse schema v3: request counts with bytes sent.
-- http_counts sums (count, markers) only, and a SummingMergeTree's summed columns are fixed
-- when the table is made: a bytes column added to it would not be summed by merges. So counts
-- are written from now on to http_counts_bytes, the same key and partitions with bytes summed
-- too; http_counts is kept as it is and read beside it (queries sum both), so no stored count
-- is copied, moved or lost, whatever other nodes (older versions included) write meanwhile.
-- Retention drops both tables' day partitions, so http_counts empties by itself.
CREATE TABLE IF NOT EXISTS {db}.{t:http_counts_bytes} (
  project String,
  domain  String,
  minute  UInt32,
  region  String,
  isp     String,
  code    UInt16,
  batch   String,
  count   UInt64,
  markers UInt64,
  bytes   UInt64
) ENGINE = SummingMergeTree((count, markers, bytes))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, region, isp, code, batch)
;
{distribute:http_counts_bytes BY cityHash64(project, domain)}

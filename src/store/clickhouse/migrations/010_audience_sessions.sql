-- livestats ClickHouse schema 010: FLV/RTMP viewers as opens and closes (issue 21; docs/storage.md,
-- "The audience cube"; src/store/audience-flv.ts). Per (domain, app, stream, protocol, province,
-- carrier, minute): opens = at a quarter-hour start (minute % 15 = 0) the sessions open in that
-- minute, elsewhere the sessions begun in it; closes = the sessions whose last minute was the one
-- before (never at a quarter-hour start). Viewers of a minute = opens - closes summed from its
-- quarter-hour's start, so a session of hours is a few rows, not one per minute it covers.
-- audience_cells keeps bytes, lines, play ms and the viewers counted per minute: rows an earlier
-- livestats wrote there (an FLV session in every minute it covered) still read as they are, so an
-- upgrade rewrites nothing. Markers as in audience_cells (batch <> '', one per insert chunk,
-- project and day), so a retried batch inserts only what is missing.
CREATE TABLE IF NOT EXISTS {db}.{t:audience_sessions} (
  project  String,
  domain   String,
  minute   UInt32,
  app      String,
  stream   String,
  protocol String,
  region   String,
  isp      String,
  batch    String,
  opens    UInt64,
  closes   UInt64,
  markers  UInt64
) ENGINE = SummingMergeTree((opens, closes, markers))
PARTITION BY intDiv(minute, 1440)
ORDER BY (project, domain, minute, app, stream, protocol, region, isp, batch)
;
{distribute:audience_sessions BY cityHash64(project, domain)}

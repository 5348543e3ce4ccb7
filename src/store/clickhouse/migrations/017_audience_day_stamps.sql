-- livestats ClickHouse schema 017: day stamps of the audience cube (issue 24), one row per (project, domain,
-- UTC day), serving two readers:
-- * the users series (audience-blocks.ts; 31 d is 744 hours) checks a closed day of a domain's audience blocks
--   by (rows, tags), the sum of the day's 24 hour stamps of 014: 31 rows from one or two partitions instead
--   of 744 from 31;
-- * a closed day's whole-domain portrait kept in a node (portrait-days.ts) is checked by ONE stamps read of
--   the day's row, all four columns: (rows, tags) as above and (user_rows, user_tags), which change with every
--   insert into audience_users (the day's distinct users, the portrait's other part), instead of two reads
--   (the day's hour stamps, its users stamp).
-- The views: 014's four with their very hashes, the three of the hour stamps into (rows, tags), the one of
-- the users stamps (audience_users) into (user_rows, user_tags) (a view on audience_stamps or audience_users_stamps would not do: 18.16 does
-- not run the views of a view's target table). A retried write's bump rows (rows 0, a random tag:
-- ClickHouseAudience.bumpStamps) go into both tables with the same tags: an hour's into (rows, tags) of its day,
-- a users day's into (user_rows, user_tags). So per insert a day's (rows, tags) is the sum of its 24 hour stamps,
-- and (user_rows, user_tags) is its users stamp of 014 (audience_users_stamps). Sums: rows added, tags
-- added mod 2^64 (UInt64). `day` is the UTC day number (intDiv(minute, 1440); audience_users' own day).
-- A database made before 017 gets its day stamps when the migration runs (schema.ts, backfillDayStamps): the
-- hours' sums into (rows, tags), its users stamps into (user_rows, user_tags). A day stamp that differs from
-- its hours' sum or users stamp (an insert whose two stamps did not both land) is repaired by the node that finds
-- its 24 hours current (repairDayStamps); until then that day's hours are read by SQL. The portrait needs no
-- such equality: it keeps a day's portrait only under a stamp read before computing it and again after.
-- Partitions of 32 days, each named by its last UTC day (as 015's; retention drops one once its last day is
-- before the cutoff). Same conventions as 001_init.sql; in cluster mode each server runs it on its own local
-- tables ({t:NAME} is NAME_local there).
CREATE TABLE IF NOT EXISTS {db}.{t:audience_day_stamps} (
  project    String,
  domain     String,
  day        UInt32,
  rows       UInt64,
  tags       UInt64,
  user_rows  UInt64,
  user_tags  UInt64
) ENGINE = SummingMergeTree((rows, tags, user_rows, user_tags))
PARTITION BY intDiv(day, 32) * 32 + 31
ORDER BY (project, domain, day)
;
{distribute:audience_day_stamps BY cityHash64(project, domain)}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_cells} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('cells', minute, app, stream, protocol, region, isp, batch, viewers, bytes, requests, play_ms, markers)) AS tags,
  toUInt64(0) AS user_rows, toUInt64(0) AS user_tags
FROM {db}.{t:audience_cells} GROUP BY project, domain, day
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_sessions} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('sessions', minute, app, stream, protocol, region, isp, batch, opens, closes, markers)) AS tags,
  toUInt64(0) AS user_rows, toUInt64(0) AS user_tags
FROM {db}.{t:audience_sessions} GROUP BY project, domain, day
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_hls} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, intDiv(minute, 1440) AS day, count() AS rows,
  sum(cityHash64('hls', minute, app, stream, region, isp, ip)) AS tags,
  toUInt64(0) AS user_rows, toUInt64(0) AS user_tags
FROM {db}.{t:audience_hls} GROUP BY project, domain, day
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{t:audience_day_stamps_from_users} TO {db}.{t:audience_day_stamps} AS
SELECT project, domain, day, toUInt64(0) AS rows, toUInt64(0) AS tags,
  count() AS user_rows, sum(cityHash64(day, stream, ip)) AS user_tags
FROM {db}.{t:audience_users} GROUP BY project, domain, day

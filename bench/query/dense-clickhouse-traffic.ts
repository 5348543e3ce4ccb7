// Columns of the dense traffic cube's TabSeparated rows in ClickHouse (dense-clickhouse-worker.ts
// makes them, dense-clickhouse.ts inserts them): the tables of migrations/002_traffic.sql.
export const TRAFFIC_DOMAIN_COLUMNS = '(project, domain, slot, protocol, region, isp, ip_type, batch, requests, bytes, markers)';
export const TRAFFIC_STREAM_COLUMNS = '(project, domain, slot, app, stream, protocol, region, isp, ip_type, batch, requests, bytes, markers)';

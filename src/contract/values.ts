/** The value sets of the contract: carriers and province codes. */
export const ISPS = ['CMCC', 'CTCC', 'CUCC', 'OTHER'] as const;
export type Isp = (typeof ISPS)[number];

export const REGIONS = [
  'OT', 'BJ', 'TJ', 'CQ', 'SH', 'GD', 'HI', 'GX', 'YN', 'SX', 'HE', 'NM', 'NX', 'LN', 'JL', 'HL', 'JS', 'ZJ',
  'JX', 'SD', 'FJ', 'AH', 'SC', 'XZ', 'SN', 'QH', 'XJ', 'GS', 'GZ', 'HB', 'HN', 'HA', 'HK', 'MO', 'TW',
] as const;
export type Region = (typeof REGIONS)[number];

const ispSet: ReadonlySet<string> = new Set(ISPS);
const regionSet: ReadonlySet<string> = new Set(REGIONS);

export const isIsp = (v: string): v is Isp => ispSet.has(v);
export const isRegion = (v: string): v is Region => regionSet.has(v);

/** HTTP status codes the API accepts and stores: integers 100..599, written plainly. */
export const isStatusCode = (n: number): boolean => Number.isInteger(n) && n >= 100 && n <= 599;
export const parseStatusCode = (text: string): number | undefined =>
  /^[1-5]\d\d$/.test(text) ? Number(text) : undefined;

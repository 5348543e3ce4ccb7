import { ISPS, REGIONS, type Isp, type Region } from '../../contract/values.js';

/** Chinese name prefixes of each province code, as ip2region writes them (with or without 省/市/自治区). */
const PROVINCE_PREFIXES: ReadonlyArray<readonly [string, Region]> = [
  ['北京', 'BJ'], ['天津', 'TJ'], ['重庆', 'CQ'], ['上海', 'SH'], ['广东', 'GD'], ['海南', 'HI'], ['广西', 'GX'],
  ['云南', 'YN'], ['山西', 'SX'], ['河北', 'HE'], ['内蒙古', 'NM'], ['宁夏', 'NX'], ['辽宁', 'LN'], ['吉林', 'JL'],
  ['黑龙江', 'HL'], ['江苏', 'JS'], ['浙江', 'ZJ'], ['江西', 'JX'], ['山东', 'SD'], ['福建', 'FJ'], ['安徽', 'AH'],
  ['四川', 'SC'], ['西藏', 'XZ'], ['陕西', 'SN'], ['青海', 'QH'], ['新疆', 'XJ'], ['甘肃', 'GS'], ['贵州', 'GZ'],
  ['湖北', 'HB'], ['湖南', 'HN'], ['河南', 'HA'], ['香港', 'HK'], ['澳门', 'MO'], ['台湾', 'TW'],
];

const SAR: ReadonlyArray<readonly [string, Region]> = [['香港', 'HK'], ['澳门', 'MO'], ['台湾', 'TW']];

/** Province code for an ip2region (country, province) pair: mainland provinces, HK/MO/TW, else OT. */
export function regionOf(country: string, province: string): Region {
  for (const [name, code] of SAR) if (country.startsWith(name)) return code;
  if (country !== '中国' && country !== '') return 'OT';
  for (const [name, code] of PROVINCE_PREFIXES) if (province.startsWith(name)) return code;
  return 'OT';
}

/** Carrier code for an ip2region ISP name: 移动/电信/联通 anywhere in it, else OTHER. */
export function ispOf(isp: string): Isp {
  if (isp.includes('移动')) return 'CMCC';
  if (isp.includes('电信')) return 'CTCC';
  if (isp.includes('联通')) return 'CUCC';
  return 'OTHER';
}

/**
 * A (region, isp) pair packed into one small integer (region index * 4 + isp index), so
 * indexes and caches hold numbers instead of objects.
 */
export type GeoCode = number;

export const packGeo = (region: Region, isp: Isp): GeoCode => REGIONS.indexOf(region) * 4 + ISPS.indexOf(isp);
export const regionOfCode = (code: GeoCode): Region => REGIONS[code >> 2] as Region;
export const ispOfCode = (code: GeoCode): Isp => ISPS[code & 3] as Isp;
/** Unknown address: abroad/other, other carrier. */
export const UNKNOWN_GEO: GeoCode = packGeo('OT', 'OTHER');

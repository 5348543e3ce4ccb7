import { ISPS, REGIONS, type Isp, type Region } from '../../src/contract/values.js';

export { ISPS, REGIONS };

/** English names of the API's province codes (the type makes sure none is missing). */
export const REGION_NAMES: Record<Region, string> = {
  OT: 'Other / abroad', BJ: 'Beijing', TJ: 'Tianjin', CQ: 'Chongqing', SH: 'Shanghai', GD: 'Guangdong',
  HI: 'Hainan', GX: 'Guangxi', YN: 'Yunnan', SX: 'Shanxi', HE: 'Hebei', NM: 'Inner Mongolia', NX: 'Ningxia',
  LN: 'Liaoning', JL: 'Jilin', HL: 'Heilongjiang', JS: 'Jiangsu', ZJ: 'Zhejiang', JX: 'Jiangxi', SD: 'Shandong',
  FJ: 'Fujian', AH: 'Anhui', SC: 'Sichuan', XZ: 'Tibet', SN: 'Shaanxi', QH: 'Qinghai', XJ: 'Xinjiang',
  GS: 'Gansu', GZ: 'Guizhou', HB: 'Hubei', HN: 'Hunan', HA: 'Henan', HK: 'Hong Kong', MO: 'Macao', TW: 'Taiwan',
};

export const ISP_NAMES: Record<Isp, string> = {
  CMCC: 'China Mobile', CTCC: 'China Telecom', CUCC: 'China Unicom', OTHER: 'Other carriers',
};

export const regionName = (code: string): string => REGION_NAMES[code as Region] ?? code;

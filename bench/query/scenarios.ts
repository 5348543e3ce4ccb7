import { domainName, taskName } from './dataset.js';
import { formatUtcSecond } from '../../src/contract/time.js';

const H = 3_600_000;

export interface Scenario {
  name: string;
  path: string;
}

/** The query mix of the benchmark issue, all ending at the dataset's last minute. */
export function scenarios(project: string, anchor: number, domains: number): Scenario[] {
  const ten = Array.from({ length: Math.min(10, domains) }, (_, i) => domainName(i)).join(',');
  const hc = `/v2/${project}/stats/httpcodes`;
  return [
    { name: 'httpcodes 1 h x 1 domain', path: `${hc}?play_domains=${domainName(0)}&start_time=${formatUtcSecond(anchor - H)}&end_time=${formatUtcSecond(anchor)}` },
    { name: 'httpcodes 24 h x 10 domains', path: `${hc}?play_domains=${ten}&start_time=${formatUtcSecond(anchor - 24 * H)}&end_time=${formatUtcSecond(anchor)}` },
    {
      name: 'httpcodes 24 h x 10 domains, region+isp+code',
      path: `${hc}?play_domains=${ten}&region=GD,BJ,SH&isp=CMCC,CTCC&code=200,404,502&start_time=${formatUtcSecond(anchor - 24 * H)}&end_time=${formatUtcSecond(anchor)}`,
    },
    {
      name: 'carousel detail 3 h',
      path: `/v2/${project}/stats/carousel-task/detail?carousel_task_id=${taskName(0)}&start_time=${formatUtcSecond(anchor - 3 * H)}&end_time=${formatUtcSecond(anchor)}`,
    },
  ];
}

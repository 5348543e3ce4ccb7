/** What the soak generated, per (domain, minute, code): the counts the store must hold at the end. */
export class CountModel {
  private readonly cells = new Map<string, Map<number, Map<number, number>>>();

  add(domain: string, minute: number, code: number, n = 1): void {
    let byMinute = this.cells.get(domain);
    if (!byMinute) {
      byMinute = new Map();
      this.cells.set(domain, byMinute);
    }
    let byCode = byMinute.get(minute);
    if (!byCode) {
      byCode = new Map();
      byMinute.set(minute, byCode);
    }
    byCode.set(code, (byCode.get(code) ?? 0) + n);
  }

  get(domain: string, minute: number, code: number): number {
    return this.cells.get(domain)?.get(minute)?.get(code) ?? 0;
  }

  total(domain: string): number {
    let n = 0;
    for (const byCode of this.cells.get(domain)?.values() ?? []) for (const v of byCode.values()) n += v;
    return n;
  }

  minutes(domain: string): number[] {
    return [...(this.cells.get(domain)?.keys() ?? [])].sort((a, b) => a - b);
  }

  codes(domain: string, minute: number): Map<number, number> {
    return this.cells.get(domain)?.get(minute) ?? new Map();
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');
export const CODES = [200, 200, 200, 200, 206, 304, 404, 500, 502, 200];
const IPS = ['202.96.128.86', '111.13.100.91', '61.135.169.121', '240e:3a1:4c::1', '8.8.8.8', '10.0.0.1'];

/** Lines of one way into the soak, all stamped `ms` (the generator's clock), counted into the model as made. */
export class LineMaker {
  private n = 0;
  private lastSecond = -1;
  private timeText = '';
  constructor(readonly domain: string, private readonly model: CountModel) {}

  make(ms: number, count: number): string[] {
    const second = Math.floor(ms / 1000);
    if (second !== this.lastSecond) {
      const d = new Date(second * 1000);
      this.timeText = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
      this.lastSecond = second;
    }
    const minute = Math.floor(ms / 60_000) * 60_000;
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const k = this.n++;
      const code = CODES[k % CODES.length] as number;
      out[i] = `${IPS[k % IPS.length]} - - [${this.timeText}] "GET /live/s${k % 50}.ts HTTP/1.1" ${code} ${1000 + (k % 977)} "-" "soak/1.0" ${this.domain}`;
      this.model.add(this.domain, minute, code);
    }
    return out;
  }
}

/** p-quantile of a sample (nearest rank). */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

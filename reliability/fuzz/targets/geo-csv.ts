import fc from 'fast-check';
import { packGeo } from '../../../src/ingest/geo/names.js';
import { GeoOverrideError, matchOverride, parseGeoOverrides } from '../../../src/ingest/geo/overrides.js';
import { ISPS, REGIONS, type Isp, type Region } from '../../../src/contract/values.js';
import { applyMutations, mutationsArb } from '../mutate.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';

interface Rule {
  v6: boolean;
  /** Address as a number (v4) or 8 groups (v6). */
  v4: number;
  groups: number[];
  len: number;
  region: Region;
  isp: Isp;
  /** How the line is written: spaces around fields, compressed v6, no /len for full length. */
  spaces: boolean;
  compress: boolean;
  omitLen: boolean;
}

interface CsvInput {
  rules: Rule[];
  comments: string[];
  crlf: boolean;
  edits: Parameters<typeof applyMutations>[1] | null;
}

const ruleArb: fc.Arbitrary<Rule> = fc.record({
  v6: fc.boolean(),
  v4: fc.nat({ max: 0xffffffff }),
  groups: fc.array(fc.nat({ max: 0xffff }), { minLength: 8, maxLength: 8 }),
  len: fc.nat({ max: 128 }),
  region: fc.constantFrom(...REGIONS),
  isp: fc.constantFrom(...ISPS),
  spaces: fc.boolean(),
  compress: fc.boolean(),
  omitLen: fc.boolean(),
});

function v6Text(groups: number[], compress: boolean): string {
  const hex = groups.map((g) => g.toString(16));
  if (!compress) return hex.join(':');
  // Compress the longest run of zero groups (at least two) as "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function ruleLine(r: Rule): string {
  const bits = r.v6 ? 128 : 32;
  const len = r.len % (bits + 1);
  const addr = r.v6 ? v6Text(r.groups, r.compress) : [24, 16, 8, 0].map((s) => (r.v4 >>> s) & 255).join('.');
  const cidr = r.omitLen && len === bits ? addr : `${addr}/${len}`;
  const sp = r.spaces ? ' ' : '';
  return [cidr, r.region, r.isp].join(`${sp},${sp}`);
}

const render = (c: CsvInput): string => [...c.comments.map((t) => `# ${t.replace(/[\r\n]/g, ' ')}`), '', ...c.rules.map(ruleLine)].join(c.crlf ? '\r\n' : '\n');

function addressValue(r: Rule): bigint {
  return r.v6 ? r.groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n) : BigInt(r.v4);
}

/** --geo-overrides CSV: generated rule files must parse to rules that match their own networks; any edit must parse or be refused with a line number. */
export function geoCsvTarget(): FuzzTarget<CsvInput> {
  return {
    name: 'geo_csv',
    title: '--geo-overrides CSV (IPv4/IPv6 CIDRs in every text form, comments, CRLF)',
    arbitrary: fc.record({
      rules: fc.array(ruleArb, { minLength: 1, maxLength: 6 }),
      comments: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
      crlf: fc.boolean(),
      edits: fc.option(mutationsArb, { freq: 2 }),
    }),
    reasons: ['refused'],
    limitMs: 1000,
    run(c): Verdict {
      const text = c.edits ? applyMutations(render(c), c.edits) : render(c);
      let rules;
      try {
        rules = parseGeoOverrides(text, 'fuzz.csv');
      } catch (err) {
        if (!(err instanceof GeoOverrideError)) throw err;
        if (!/^fuzz\.csv:\d+: /.test(err.message)) return wrong(`refusal without a line number: ${err.message}`);
        return c.edits ? dropped('refused') : wrong(`valid file refused: ${err.message}`);
      }
      for (const r of rules) matchOverride(rules, r.v6, r.network);
      if (c.edits) return accepted;
      if (rules.length !== c.rules.length) return wrong(`${rules.length} rules for ${c.rules.length} lines`);
      for (let i = 0; i < c.rules.length; i++) {
        const r = c.rules[i] as Rule;
        const got = rules[i];
        // The rule's own address is inside its network: the first rule that matches it is this one or an earlier one.
        const hit = matchOverride(rules.slice(0, i + 1), r.v6, addressValue(r));
        if (!got || got.v6 !== r.v6 || got.code !== packGeo(r.region, r.isp) || hit === undefined) return wrong(`rule ${i + 1} (${ruleLine(r)}) parsed as ${JSON.stringify(got, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      }
      return accepted;
    },
  };
}

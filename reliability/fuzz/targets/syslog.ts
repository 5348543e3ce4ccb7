import fc from 'fast-check';
import { createLineParser } from '../../../src/ingest/formats/presets.js';
import { syslogMessage, TcpFramer } from '../../../src/ingest/syslog/frame.js';
import { expectedReason, PRESET_SEGS, recordArb, renderLine, type LogRecord } from '../model/access.js';
import { applyMutations, mutationsArb } from '../mutate.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';
import { LineBench, LINE_REASONS } from './line-check.js';

type Framing = 'octet' | 'newline' | 'nul' | 'udp';

interface SyslogMessage {
  rfc: '3164' | '5424';
  pri: number;
  host: string;
  tag: string;
  sd: string;
  bom: boolean;
  record: LogRecord;
}

interface SyslogInput {
  framing: Framing;
  messages: SyslogMessage[];
  /** Where the byte stream is cut into TCP reads (fractions of its length). */
  cuts: number[];
  edits: Parameters<typeof applyMutations>[1] | null;
}

const token = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
const sdParam = fc.string({ unit: 'grapheme-ascii', maxLength: 10 }).map((v) => v.replace(/["\\\]]/g, (c) => `\\${c}`));

const messageArb: fc.Arbitrary<SyslogMessage> = fc.record({
  rfc: fc.constantFrom('3164' as const, '5424' as const),
  pri: fc.integer({ min: 0, max: 191 }),
  host: token,
  tag: fc.oneof(token, token.map((t) => `${t}[${t.length}]`)),
  sd: fc.oneof(fc.constant('-'), fc.array(fc.tuple(token, token, sdParam).map(([id, k, v]) => `[${id}@1 ${k}="${v}"]`), { minLength: 1, maxLength: 2 }).map((a) => a.join(''))),
  bom: fc.boolean(),
  record: recordArb,
});

const { segs, mode } = PRESET_SEGS.combined_host;
const payload = (m: SyslogMessage): string => renderLine(segs, m.record, mode);

function header(m: SyslogMessage): string {
  if (m.rfc === '3164') return `<${m.pri}>Nov ${String(1 + (m.pri % 28)).padStart(2, ' ')} 10:0${m.pri % 10}:00 ${m.host} ${m.tag}: `;
  return `<${m.pri}>1 2026-11-23T10:00:00.123Z ${m.host} ${m.tag} - - ${m.sd} ${m.bom ? '\uFEFF' : ''}`;
}

/** The stream as bytes in a latin1 string, the way the TCP listener reads it. */
function stream(framing: Framing, messages: readonly SyslogMessage[]): string {
  let out = '';
  for (const m of messages) {
    const bytes = Buffer.from(header(m) + payload(m), 'utf8').toString('latin1');
    out += framing === 'octet' ? `${bytes.length} ${bytes}` : framing === 'nul' ? `${bytes}\0` : `${bytes}\n`;
  }
  return out;
}

const REASONS = [...LINE_REASONS, 'not_syslog', 'bad octet count', 'frame too long', 'no_message'];

/** Syslog intake: RFC 3164 and 5424 headers; octet-counted, newline and NUL framing over TCP in any read sizes; UDP datagrams. */
export function syslogTarget(): FuzzTarget<SyslogInput> {
  let bench: LineBench | undefined;
  return {
    name: 'syslog',
    title: 'syslog: RFC 3164/5424 headers, octet-counted / newline / NUL TCP framing split at any byte, UDP datagrams',
    arbitrary: fc.record({
      framing: fc.constantFrom('octet' as const, 'newline' as const, 'nul' as const, 'udp' as const),
      messages: fc.array(messageArb, { minLength: 1, maxLength: 4 }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
      edits: fc.option(mutationsArb, { freq: 2 }),
    }),
    reasons: REASONS,
    limitMs: 1000,
    prepare() {
      bench ??= new LineBench(createLineParser('combined_host'));
    },
    run({ framing, messages, cuts, edits }): Verdict {
      bench ??= new LineBench(createLineParser('combined_host'));
      const expectFrames = edits === null;
      let frames: string[];
      let error: string | undefined;
      if (framing === 'udp') {
        // One datagram per message (the listener decodes a datagram as UTF-8).
        frames = messages.map((m) => Buffer.from(header(m) + payload(m), 'utf8').toString('latin1'));
        if (edits) frames = frames.map((f, i) => (i === 0 ? applyMutations(f, edits) : f));
      } else {
        let bytes = stream(framing, messages);
        if (edits) bytes = applyMutations(bytes, edits);
        const framer = new TcpFramer();
        frames = [];
        let prev = 0;
        for (const c of [...cuts.map((x) => Math.floor(x * bytes.length)).sort((a, b) => a - b), bytes.length]) {
          if (c < prev) continue;
          frames.push(...framer.push(bytes.slice(prev, c)));
          prev = c;
          if (framer.error) break;
        }
        error = framer.error;
      }
      if (expectFrames && (error !== undefined || frames.length !== messages.length)) {
        return wrong(`${framing}: ${frames.length} frames for ${messages.length} messages${error ? ` (${error})` : ''}`);
      }
      let first: string | undefined;
      for (let i = 0; i < frames.length; i++) {
        const msg = syslogMessage(Buffer.from(frames[i] as string, 'latin1').toString('utf8'));
        const m = messages[i] as SyslogMessage;
        if (expectFrames && msg !== payload(m)) return wrong(`message ${i}: ${JSON.stringify(msg)} is not the payload ${JSON.stringify(payload(m))}`);
        const v = msg === undefined ? dropped('not_syslog') : bench.judge(msg, expectFrames ? { reason: expectedReason(segs, m.record) } : undefined);
        if (v.outcome === 'wrong') return v;
        if (v.outcome === 'dropped' && first === undefined) first = v.reason;
      }
      if (error !== undefined) return dropped(error);
      if (frames.length === 0) return dropped('no_message');
      return first === undefined ? accepted : dropped(first);
    },
  };
}

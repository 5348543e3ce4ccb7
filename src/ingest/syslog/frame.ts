/**
 * The MSG part of one syslog message: RFC 5424 ("<PRI>1 TS HOST APP PROCID MSGID SD MSG") or
 * RFC 3164 as nginx writes it ("<PRI>Mmm dd hh:mm:ss [HOST] TAG: MSG"). Undefined when it is
 * not syslog. A trailing newline / NUL is removed.
 */
export function syslogMessage(raw: string): string | undefined {
  let s = raw;
  while (s.length > 0 && (s.endsWith('\n') || s.endsWith('\r') || s.endsWith('\0'))) s = s.slice(0, -1);
  if (s.charCodeAt(0) !== 60) return undefined;
  const gt = s.indexOf('>');
  if (gt < 2 || gt > 4 || !/^\d+$/.test(s.slice(1, gt)) || Number(s.slice(1, gt)) > 191) return undefined;
  let i = gt + 1;
  if (/^[1-9]\d{0,2} /.test(s.slice(i, i + 4))) return rfc5424(s, s.indexOf(' ', i) + 1);
  // RFC 3164: a 15-character timestamp "Mmm dd hh:mm:ss" then a space.
  if (/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /.test(s.slice(i, i + 16))) i += 16;
  const tagEnd = s.indexOf(': ', i);
  return tagEnd < 0 ? s.slice(i) : s.slice(tagEnd + 2);
}

function rfc5424(s: string, from: number): string | undefined {
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID: five space-separated fields.
  let i = from;
  for (let f = 0; f < 5; f++) {
    const sp = s.indexOf(' ', i);
    if (sp < 0) return undefined;
    i = sp + 1;
  }
  // STRUCTURED-DATA: '-' or one or more [..] elements (']' inside values escaped as '\]').
  if (s[i] === '-') {
    i++;
  } else {
    while (s[i] === '[') {
      let j = i + 1;
      while (j < s.length && !(s[j] === ']' && s[j - 1] !== '\\')) j++;
      if (j >= s.length) return undefined;
      i = j + 1;
    }
  }
  if (i < s.length && s[i] === ' ') i++;
  let msg = s.slice(i);
  if (msg.startsWith('\uFEFF')) msg = msg.slice(1);
  return msg;
}

/** Largest TCP frame accepted (octet counting or newline framing); longer input closes the connection. */
export const MAX_FRAME = 256 * 1024;

/**
 * Splits a TCP syslog stream into messages: octet-counted ("LEN SP MSG", RFC 6587) when a frame
 * starts with a digit, else newline (or NUL) terminated. push() returns complete messages.
 */
export class TcpFramer {
  private buf = '';
  error: string | undefined;

  push(data: string): string[] {
    this.buf += data;
    const out: string[] = [];
    for (;;) {
      if (this.buf.length === 0) break;
      const c = this.buf.charCodeAt(0);
      if (c >= 48 && c <= 57) {
        const sp = this.buf.indexOf(' ');
        if (sp < 0) {
          if (this.buf.length > 10) this.error = 'bad octet count';
          break;
        }
        const len = /^\d{1,7}$/.test(this.buf.slice(0, sp)) ? Number(this.buf.slice(0, sp)) : -1;
        if (len < 0 || len > MAX_FRAME) {
          this.error = 'bad octet count';
          break;
        }
        // Octet counts are bytes; the stream is decoded as latin1 so one char = one byte.
        if (this.buf.length < sp + 1 + len) break;
        out.push(this.buf.slice(sp + 1, sp + 1 + len));
        this.buf = this.buf.slice(sp + 1 + len);
        continue;
      }
      let end = this.buf.indexOf('\n');
      const nul = this.buf.indexOf('\0');
      if (nul >= 0 && (end < 0 || nul < end)) end = nul;
      if (end < 0) {
        if (this.buf.length > MAX_FRAME) this.error = 'frame too long';
        break;
      }
      const frame = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 1);
      if (frame.trim() !== '') out.push(frame);
    }
    return out;
  }
}

import type { Progress } from '../ingest/batch-ingest.js';

const fmtBytes = (n: number): string =>
  n >= 1 << 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;

/** A one-line progress bar on a TTY (bytes, lines/s, ETA), redrawn at most 10 times a second. */
export class ProgressBar {
  private last = 0;
  private readonly started = Date.now();
  private doneBefore = 0;
  private currentFile = '';

  constructor(private readonly out: NodeJS.WriteStream, private readonly grandTotal: number | undefined) {}

  update(p: Progress): void {
    if (p.file !== this.currentFile) {
      if (this.currentFile !== '') this.doneBefore += this.lastBytes;
      this.currentFile = p.file;
    }
    this.lastBytes = p.bytesRead;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const bytes = this.doneBefore + p.bytesRead;
    const rate = p.lines / secs;
    let bar = '';
    let eta = '';
    if (this.grandTotal) {
      const frac = Math.min(bytes / this.grandTotal, 1);
      const width = 24;
      const filled = Math.round(frac * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% `;
      const left = frac > 0 ? (secs / frac) * (1 - frac) : 0;
      eta = ` ETA ${left.toFixed(0)}s`;
    }
    this.out.write(`\r${bar}${fmtBytes(bytes)} ${p.lines} lines ${Math.round(rate)} lines/s${eta}   `);
  }

  private lastBytes = 0;

  done(): void {
    this.out.write('\r\x1b[K');
  }
}

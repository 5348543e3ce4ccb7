import { appendFileSync } from 'node:fs';

/** One fault tried and what it did, as `npm run faults` writes it into RELIABILITY.md. */
export interface FaultRecord {
  fault: string;
  /** What the service did, in a sentence. */
  behaviour: string;
  /** Lines acknowledged (or written, for follow); absent for faults that are not about data. */
  acknowledged?: number;
  /** Lines refused (never counted unless retried). */
  refused?: number;
  lost: number;
  doubleCounted: number;
  /** Anything else measured (rounds, retries, ...). */
  details?: Record<string, number | string>;
}

/** Appends the record to $LIVESTATS_FAULTS_OUT (JSON lines) when set; a no-op otherwise. */
export function recordFault(r: FaultRecord): void {
  const out = process.env.LIVESTATS_FAULTS_OUT;
  if (out) appendFileSync(out, JSON.stringify(r) + '\n');
}

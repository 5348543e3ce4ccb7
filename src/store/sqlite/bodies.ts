import type Database from 'better-sqlite3';
import { renderCarousel } from '../../contract/carousel-body.js';
import { renderHttpCodes } from '../../contract/httpcodes-body.js';
import type { HttpCodesFilter, SampleFilter } from '../types.js';
import { readHttpCodes, readSamples } from './reads.js';

/**
 * Whole answers as bytes, read and rendered on the calling thread (a read worker): the main
 * thread only sends them. Byte-identical to rendering the Store interface's cells with
 * httpCodesJson / carouselJson (property-tested in src/contract).
 */
export function httpCodesBody(db: Database.Database, f: HttpCodesFilter, codes: readonly number[]): Uint8Array {
  return renderHttpCodes({ codes: [...codes], fromMinute: f.fromMinute, toMinute: f.toMinute }, readHttpCodes(db, f));
}

export function samplesBody(db: Database.Database, f: SampleFilter): Uint8Array {
  return renderCarousel({ start: f.from, end: f.to }, readSamples(db, f));
}

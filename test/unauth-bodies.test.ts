import { expect, it } from 'vitest';
import { measureUnauthBodies } from '../bench/reliability/unauth-bodies.js';
import { projectRoot } from '../src/paths.js';
import { cliPath } from './ingest-helpers.js';

/**
 * A real `livestats serve` process (the build in dist/) and 8 connections without credentials,
 * each sending a 64 MiB ingest body: each gets its 401 before its body has been sent, and the
 * server never holds the bodies (before: +513 MiB resident, still +577 MiB after they closed).
 */
it('8 unauthenticated 64 MiB bodies: 401 before each body is sent whole, resident memory stays near its baseline', async () => {
  cliPath(); // throws when the build is missing
  const r = await measureUnauthBodies(projectRoot(), 8, 64);
  expect(r.earlyRefusals).toBe(8);
  // Generous: one body's worth would be 64 MiB, all eight 512 MiB.
  expect(r.peakMiB - r.baselineMiB).toBeLessThan(96);
  expect(r.afterMiB - r.baselineMiB).toBeLessThan(96);
}, 180_000);

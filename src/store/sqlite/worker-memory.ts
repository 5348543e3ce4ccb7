import type { ResourceLimits } from 'node:worker_threads';

/**
 * Memory bounds of the store's worker threads (read workers and the write thread), measured on
 * the dense bench (`npm run bench -- dense`): with V8's default young generation (semi-spaces
 * grow to 16 MB) each read worker's heap grew to 26-53 MB, most of it garbage between scavenges;
 * with 8 MB it stays at 18-20 MB, with no difference in server CPU per query beyond the noise
 * (same-run alternating rounds). Dead ArrayBuffers (a Buffer per block read) come on top of it.
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/**
 * SQLite page cache of each worker connection, in KiB (better-sqlite3's build default is 16 MiB).
 * 8 MiB holds the pages of the heaviest query (24 h x 10 domains x 2 groups: ~480 leaf pages of
 * 16 KiB); a commit by another connection empties the cache anyway.
 */
export const WORKER_CACHE_KIB = 8192;

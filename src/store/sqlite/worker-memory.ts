import type { ResourceLimits } from 'node:worker_threads';

/**
 * Memory bounds of the store's worker threads (read workers and the write thread), measured on
 * the dense bench (`npm run bench -- dense`): with V8's default young generation (up to 48 MB a
 * thread) each worker carried 40-50 MB of heap, most of it garbage between scavenges, plus
 * 30-60 MB of dead ArrayBuffers (a Buffer per block read) that only a scavenge frees; 8 MB
 * scavenges more often at no measurable CPU cost per query and took ~70 MB off the server's RSS.
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/**
 * SQLite page cache of each worker connection, in KiB (better-sqlite3's build default is 16 MiB).
 * 8 MiB holds the pages of the heaviest query (24 h x 10 domains x 2 groups: ~480 leaf pages of
 * 16 KiB); a commit by another connection empties the cache anyway.
 */
export const WORKER_CACHE_KIB = 8192;

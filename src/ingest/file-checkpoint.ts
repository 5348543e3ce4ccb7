import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';

export const FILE_CHECKPOINT_PREFIX = 'ingest-file:';

/**
 * The checkpoint key that says "this file, as it is now, has been counted for this project":
 * its real path, device, inode, size and modification time. Stdin has none.
 */
export async function fileCheckpointKey(project: string, file: string): Promise<string | undefined> {
  if (file === '-') return undefined;
  const real = await realpath(file);
  const s = await stat(real);
  const id = createHash('sha256').update([real, s.dev, s.ino, s.size, s.mtimeMs].join('\u0000')).digest('hex').slice(0, 32);
  return `${FILE_CHECKPOINT_PREFIX}${project}:${id}`;
}

/** Where a followed file was read up to: its identity (dev, ino), the byte offset, a fingerprint of its start. */
export interface FollowPosition {
  dev: number;
  ino: number;
  offset: number;
  /** Hex of the file's first bytes (up to 64, within its first line) when known: detects copytruncate. */
  head: string;
}

export function encodePosition(p: FollowPosition): string {
  return JSON.stringify(p);
}

/** Parses a stored checkpoint; undefined when absent or not one of ours. */
export function decodePosition(text: string | undefined): FollowPosition | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<FollowPosition>;
    if (typeof v.dev === 'number' && typeof v.ino === 'number' && typeof v.offset === 'number' && v.offset >= 0) {
      return { dev: v.dev, ino: v.ino, offset: v.offset, head: typeof v.head === 'string' ? v.head : '' };
    }
  } catch {
    // not ours: start over
  }
  return undefined;
}

export const HEAD_BYTES = 64;

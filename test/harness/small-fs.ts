import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, small filesystem for disk-full tests: a tmpfs of `sizeMiB` mounted on a fresh
 * directory (needs root and a kernel that lets this process mount; `npm test` runs as root).
 * A filler file takes the space; removing it frees the space again.
 */
export interface SmallFs {
  dir: string;
  /** Free bytes now. */
  free(): number;
  /** Writes a filler file so that about `leaveBytes` stay free (or fewer). */
  fill(leaveBytes: number): void;
  /** Deletes the filler file. */
  release(): void;
  unmount(): void;
}

/** Mounts one, or answers why it cannot (then the caller skips with that reason). */
export function mountSmallFs(sizeMiB: number): SmallFs | string {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a ${sizeMiB} MiB tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`;
  }
  const filler = join(dir, 'filler');
  const free = (): number => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  let fills = 0;
  return {
    dir,
    free,
    fill(leaveBytes) {
      const n = Math.max(0, free() - leaveBytes);
      writeFileSync(`${filler}.${fills++}`, Buffer.alloc(n, 1));
    },
    release() {
      for (let i = 0; i < fills; i++) rmSync(`${filler}.${i}`, { force: true });
      fills = 0;
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

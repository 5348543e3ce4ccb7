import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locate, missingToolsMessage } from './system-tools.js';
import { tempDir } from './tmp.js';

describe('the system-tool check the tests share', () => {
  it('finds an executable on PATH, not a non-executable file of that name', () => {
    const t = tempDir('tools-');
    const bin = join(t.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ffmpeg'), '#!/bin/sh\n');
    writeFileSync(join(bin, 'ffprobe'), 'not executable');
    chmodSync(join(bin, 'ffmpeg'), 0o755);
    expect(locate('ffmpeg', `/nonexistent:${bin}`)).toBe(join(bin, 'ffmpeg'));
    expect(locate('ffprobe', bin)).toBeUndefined();
    t.remove();
  });

  it('names each missing tool and the one apt-get line with its packages', () => {
    expect(missingToolsMessage(['ffmpeg', 'ffprobe'], '/nonexistent')).toBe(
      'missing system tools ffmpeg, ffprobe: `npm test` installs them, or run `sudo apt-get install -y ffmpeg`');
  });

  it('says nothing when the tools are there (npm test installed them)', () => {
    expect(missingToolsMessage(['ffmpeg', 'ffprobe', 'nginx', 'nginx-rtmp', 'chromium', 'clickhouse-server', 'curl', 'prometheus', 'promtool'], process.env.PATH)).toBeUndefined();
  });
});

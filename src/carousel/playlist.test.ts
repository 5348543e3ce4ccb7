import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../../test/helpers/clips.js';
import { collectingLog } from '../../test/helpers/api.js';
import { concatList, inspectFile, locate, preparePlaylist, rotate, type PlaylistItem } from './playlist.js';
import { requireTools } from '../../test/helpers/system-tools.js';

requireTools('ffmpeg', 'ffprobe');

const item = (path: string, durationSec: number): PlaylistItem => ({ source: path, path, durationSec, videoTimeBase: '1/90000' });

describe('playlist helpers', () => {
  it('writes an ffconcat list with quoted paths', () => {
    expect(concatList([item('/m/a.mp4', 1), item("/m/it's.mp4", 1)])).toBe("ffconcat version 1.0\nfile '/m/a.mp4'\nfile '/m/it'\\''s.mp4'\n");
  });

  it('rotates and locates positions in a looping playlist', () => {
    expect(rotate([1, 2, 3], 1)).toEqual([2, 3, 1]);
    expect(rotate([1, 2, 3], -1)).toEqual([3, 1, 2]);
    const items = [item('a', 8), item('b', 10)];
    expect(locate(items, 0)).toEqual({ index: 0, intoSec: 0 });
    expect(locate(items, 9)).toEqual({ index: 1, intoSec: 1 });
    expect(locate(items, 18 + 7.5)).toEqual({ index: 0, intoSec: 7.5 });
  });
});

describe('preparePlaylist with real ffprobe/ffmpeg', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestats-playlist-'));
    await makeClip(join(dir, 'a.mp4'), { fps: 25, videoKbps: 300, audioKbps: 64, seconds: 2 });
    await makeClip(join(dir, 'b.mp4'), { fps: 30, videoKbps: 300, audioKbps: 64, seconds: 2 });
    await writeFile(join(dir, 'broken.mp4'), 'this is not a video file');
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('skips broken and missing files with a logged error and normalises time bases', async () => {
    const log = collectingLog();
    const files = ['a.mp4', 'broken.mp4', 'missing.mp4', 'b.mp4'].map((f) => join(dir, f));
    const items = await preparePlaylist(files, dir, log);
    expect(items.map((i) => i.source)).toEqual([join(dir, 'a.mp4'), join(dir, 'b.mp4')]);
    expect(items.every((i) => i.videoTimeBase === '1/90000')).toBe(true);
    expect(items.every((i) => Math.abs(i.durationSec - 2) < 0.2)).toBe(true);
    const errors = log.lines.filter((l) => l.level === 'error').map((l) => l.msg);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/skipping broken file .*broken\.mp4: .*Invalid data found/);
    expect(errors[1]).toMatch(/skipping broken file .*missing\.mp4: .*No such file or directory/);
    // the remuxed copies play: inspecting them succeeds
    for (const i of items) expect(typeof (await inspectFile(i.path))).toBe('object');
  });
});

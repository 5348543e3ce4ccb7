import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClipSpec {
  fps: number;
  videoKbps: number;
  audioKbps: number;
  seconds: number;
  /** Seconds between keyframes (default 2). */
  gopSeconds?: number;
}

/**
 * Encodes a test clip with ffmpeg: H.264 in strict CBR (nal-hrd=cbr pads to the target, so
 * the bitrate is what was asked for), 2 s GOP, and AAC-LC 44.1 kHz stereo of noise (noise
 * keeps the AAC encoder at its target bitrate).
 */
export async function makeClip(path: string, c: ClipSpec): Promise<void> {
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${c.fps}`,
    '-f', 'lavfi', '-i', 'anoisesrc=sample_rate=44100:amplitude=0.3',
    '-t', String(c.seconds), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(c.fps * (c.gopSeconds ?? 2)),
    '-b:v', `${c.videoKbps}k`, '-maxrate', `${c.videoKbps}k`, '-bufsize', `${Math.round(c.videoKbps / 2)}k`,
    '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'aac', '-b:a', `${c.audioKbps}k`, '-ar', '44100', '-ac', '2',
    path,
  ]);
}

import type { CarouselSample } from '../contract/carousel.js';
import { hash01 } from './random.js';

const SECOND = 1000;
export const DEMO_TASK = 'demo-carousel';

/** Outages: in roughly one of five 40-minute blocks, a 20-60 s run of zeros (an ffmpeg restart). */
function inOutage(s: number): boolean {
  const block = Math.floor(s / 2400);
  const h = hash01(block * 31 + 5);
  if (h >= 0.2) return false;
  const startOffset = Math.floor(hash01(block * 31 + 6) * 2300);
  const length = 20 + Math.floor(hash01(block * 31 + 7) * 40);
  const offset = s - block * 2400;
  return offset >= startOffset && offset < startOffset + length;
}

/** The demo channel's per-second telemetry: 25 fps ~2500 kbps video, ~43 fps ~128 kbps AAC audio. */
export function demoSample(second: number): CarouselSample {
  const s = Math.floor(second / SECOND);
  if (inOutage(s)) return { second: s * SECOND, videoFps: 0, videoKbps: 0, audioFps: 0, audioKbps: 0 };
  const jitter = hash01(s);
  const scene = Math.sin(s / 97) * 0.12 + Math.sin(s / 13) * 0.05;
  return {
    second: s * SECOND,
    videoFps: jitter < 0.04 ? 24 : jitter > 0.97 ? 26 : 25,
    videoKbps: Math.round(2500 * (1 + scene) + (hash01(s + 1e6) - 0.5) * 200),
    audioFps: hash01(s + 2e6) < 0.07 ? 44 : 43,
    audioKbps: Math.round(128 + (hash01(s + 3e6) - 0.5) * 6),
  };
}

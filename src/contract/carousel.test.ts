import { expect, it } from 'vitest';
import { carouselJson, shapeCarousel, type CarouselQuery } from './carousel.js';

it('renders dense lists, zeros where no sample exists, and JSON text equal to the object', () => {
  const start = Date.UTC(2026, 0, 1);
  const q: CarouselQuery = { taskId: 't', start, end: start + 4000 };
  const samples = [
    { second: start + 1000, videoFps: 25, videoKbps: 1500, audioFps: 43, audioKbps: 128 },
    { second: start + 9000, videoFps: 9, videoKbps: 9, audioFps: 9, audioKbps: 9 }, // outside the window
  ];
  const obj = shapeCarousel(q, samples);
  expect(obj).toEqual({
    start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T00:00:04Z',
    video_framerate_list: [0, 25, 0, 0], video_bitrate_list: [0, 1500, 0, 0],
    audio_framerate_list: [0, 43, 0, 0], audio_bitrate_list: [0, 128, 0, 0],
  });
  expect(JSON.parse(carouselJson(q, samples))).toEqual(obj);
  expect(shapeCarousel({ ...q, end: start }, samples).video_framerate_list).toEqual([]);
});

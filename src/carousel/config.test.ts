import { describe, expect, it } from 'vitest';
import { CarouselConfigError, loadCarouselConfig, parseCarouselConfig } from './config.js';

const task = { project: 'p1', task: 'ch1', playlist: ['a.mp4', '/abs/b.mp4'], to: 'rtmp://127.0.0.1/live/ch1' };
const parse = (doc: unknown): ReturnType<typeof parseCarouselConfig> => parseCarouselConfig(JSON.stringify(doc), '/etc/livestats/carousel.json');

describe('parseCarouselConfig', () => {
  it('reads tasks, resolving playlist paths against the file and looping by default', () => {
    expect(parse({ tasks: [task, { ...task, task: 'ch2', loop: false, probe: 'http://edge/live/ch1.flv' }] })).toEqual([
      { project: 'p1', taskId: 'ch1', playlist: ['/etc/livestats/a.mp4', '/abs/b.mp4'], to: task.to, loop: true },
      { project: 'p1', taskId: 'ch2', playlist: ['/etc/livestats/a.mp4', '/abs/b.mp4'], to: task.to, loop: false, probeUrl: 'http://edge/live/ch1.flv' },
    ]);
  });

  it('says where and why a file is unusable', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /expected \{"tasks": \[\.\.\.\]\}/],
      [{ tasks: [null] }, /tasks\[0\]: must be an object/],
      [{ tasks: [{ ...task, project: 'no spaces' }] }, /tasks\[0\]: "project" must be a project id/],
      [{ tasks: [{ ...task, task: '' }] }, /"task" must be a task id/],
      [{ tasks: [{ ...task, playlist: [] }] }, /"playlist" must be a non-empty array/],
      [{ tasks: [{ ...task, playlist: ['ok.mp4', 3] }] }, /tasks\[0\]\.playlist\[1\]: must be a file path/],
      [{ tasks: [{ ...task, to: 'not a url' }] }, /"to" must be a stream URL/],
      [{ tasks: [{ ...task, loop: 'yes' }] }, /"loop" must be true or false/],
      [{ tasks: [{ ...task, extra: 1 }] }, /unknown key "extra"/],
      [{ tasks: [task, task] }, /tasks\[1\]: task p1\/ch1 is listed twice/],
    ];
    for (const [doc, msg] of cases) expect(() => parse(doc)).toThrow(msg);
    expect(() => parseCarouselConfig('{"tasks": [', 'x.json')).toThrow(/x\.json: not valid JSON/);
  });

  it('reports a missing file as a config error', () => {
    expect(() => loadCarouselConfig('/nonexistent/carousel.json')).toThrow(CarouselConfigError);
    expect(() => loadCarouselConfig('/nonexistent/carousel.json')).toThrow(/cannot read \(ENOENT\)/);
  });
});

import { test } from 'vitest';
import { readFileSync } from 'node:fs';
import { writeLog } from '../../bench/ingest/generate.js';
import { createLineParser } from '../../src/ingest/formats/presets.js';
import { GeoResolver } from '../../src/ingest/geo/resolver.js';
import { LineProcessor } from '../../src/ingest/processor.js';

test('quick perf', async () => {
  let t = performance.now();
  await writeLog('/tmp/q.log', 300_000, Date.now() - 60_000, 3600_000);
  console.log('gen', performance.now() - t);
  t = performance.now();
  const geo = GeoResolver.create();
  console.log('index', performance.now() - t);
  let cells = 0;
  const p = new LineProcessor({ parser: createLineParser('combined_host'), geo, retentionDays: 8, sink: (b) => { cells += b.keys.length; } });
  const text = readFileSync('/tmp/q.log', 'utf8');
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    let s = 0;
    for (;;) { const e = text.indexOf('\n', s); if (e < 0) break; p.process(text.slice(s, e)); s = e + 1; }
    const dt = performance.now() - t;
    console.log('lines/s', Math.round(300_000 / dt * 1000), JSON.stringify(p.takeStats()));
  }
  p.flushCells(); console.log('cells', cells);
  console.log(text.split('\n', 2)[0]);
}, 120_000);

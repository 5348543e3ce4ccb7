import { describe, expect, it } from 'vitest';
import { parsePacketLine } from './packets.js';

describe('parsePacketLine', () => {
  it('reads ffprobe compact packet lines', () => {
    expect(parsePacketLine('codec_type=video|pts_time=12.063000|dts_time=12.023000|size=1763')).toEqual({ kind: 'video', time: 12.023, bytes: 1763 });
    expect(parsePacketLine('codec_type=audio|pts_time=3.019000|dts_time=3.019000|size=371')).toEqual({ kind: 'audio', time: 3.019, bytes: 371 });
  });

  it('falls back to pts when dts is N/A', () => {
    expect(parsePacketLine('codec_type=video|pts_time=1.5|dts_time=N/A|size=10')).toEqual({ kind: 'video', time: 1.5, bytes: 10 });
  });

  it('ignores other streams, incomplete and hostile lines', () => {
    for (const line of [
      'codec_type=subtitle|pts_time=1|dts_time=1|size=10',
      'codec_type=data|pts_time=1|dts_time=1|size=10',
      'codec_type=video|pts_time=N/A|dts_time=N/A|size=10',
      'codec_type=video|dts_time=1|size=-5',
      'codec_type=video|dts_time=1|size=1e9',
      'codec_type=video|dts_time=1',
      '[flv @ 0x55] Packet mismatch',
      '',
      `codec_type=video|dts_time=1|size=1|${'x'.repeat(1000)}`,
      '|||===|',
    ]) {
      expect(parsePacketLine(line)).toBeNull();
    }
  });
});

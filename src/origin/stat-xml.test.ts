import { describe, expect, it } from 'vitest';
import { parseRtmpStat } from './stat-xml.js';

// A page from Debian's nginx 1.22.1 + libnginx-mod-rtmp 1.2.2 (rtmp_stat all), one ffmpeg publisher
// (test/harness/nginx-rtmp.ts), with a player client and a second application added by hand.
const PAGE = `<?xml version="1.0" encoding="utf-8" ?>
<rtmp>
<nginx_version>1.22.1</nginx_version>
<nginx_rtmp_version>1.1.4</nginx_rtmp_version>
<uptime>10</uptime>
<naccepted>2</naccepted>
<bw_in>0</bw_in>
<bytes_in>153935</bytes_in>
<server>
<application>
<name>live</name>
<live>
<stream>
<name>s1</name>
<time>3117</time><bw_in>368000</bw_in>
<bytes_in>151601</bytes_in>
<bw_out>0</bw_out>
<bytes_out>0</bytes_out>
<bw_audio>0</bw_audio>
<bw_video>0</bw_video>
<client><id>4</id><address>127.0.0.1</address><time>3319</time><flashver>FMLE/3.0 (compatible; Lavf59.27</flashver><dropped>0</dropped><avsync>-15</avsync><timestamp>3103</timestamp><publishing/><active/></client>
<client><id>9</id><address>203.0.113.7</address><time>1200</time><flashver>LNX 9,0,124,2</flashver><dropped>0</dropped><avsync>0</avsync><timestamp>3103</timestamp><active/></client>
<meta><video><width>640</width><height>360</height><frame_rate>25</frame_rate><codec>H264</codec><profile>Baseline</profile><compat>192</compat><level>3.0</level></video><audio><codec>AAC</codec><profile>LC</profile><channels>2</channels><sample_rate>44100</sample_rate></audio></meta>
<nclients>2</nclients>
<publishing/>
<active/>
</stream>
<nclients>2</nclients>
</live>
</application>
<application>
<name>a&amp;b</name>
<live>
<stream>
<name>idle</name>
<time>5</time><bw_in>0</bw_in>
<bytes_in>0</bytes_in>
<nclients>0</nclients>
</stream>
</live>
</application>
</server>
</rtmp>
`;

describe('parseRtmpStat', () => {
  it('reads streams, their publisher and players, bytes and meta from a real page', () => {
    expect(parseRtmpStat(PAGE)).toEqual([
      {
        app: 'live', name: 's1', timeMs: 3117, bytesIn: 151601, bwIn: 368000, videoCodec: 'H264', audioCodec: 'AAC', width: 640, height: 360, frameRate: 25,
        clients: [
          { id: '4', address: '127.0.0.1', timeMs: 3319, flashver: 'FMLE/3.0 (compatible; Lavf59.27', publishing: true },
          { id: '9', address: '203.0.113.7', timeMs: 1200, flashver: 'LNX 9,0,124,2', publishing: false },
        ],
      },
      { app: 'a&b', name: 'idle', timeMs: 5, bytesIn: 0, bwIn: 0, videoCodec: '', audioCodec: '', width: 0, height: 0, frameRate: 0, clients: [] },
    ]);
  });

  it('an empty server has no streams; a page that is not nginx-rtmp\'s is an error', () => {
    expect(parseRtmpStat('<rtmp><server><application><name>live</name><live><nclients>0</nclients></live></application></server></rtmp>')).toEqual([]);
    expect(() => parseRtmpStat('<html>502 Bad Gateway</html>')).toThrow('not an nginx-rtmp statistics page');
  });
});

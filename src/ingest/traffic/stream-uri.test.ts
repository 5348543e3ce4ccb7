import { describe, expect, it } from 'vitest';
import { isStreamName } from '../../contract/traffic/values.js';
import { OTHER_STREAM, streamOfUri, type StreamKey } from './stream-uri.js';

const k = (app: string, stream: string, protocol: StreamKey['protocol']): StreamKey => ({ app, stream, protocol });

describe('streamOfUri: the shapes of the reference', () => {
  it.each([
    ['/live/room1.flv', k('live', 'room1', 'flv')],
    ['/live/room1.m3u8', k('live', 'room1', 'hls')],
    // HLS segments, shape 1: a segment file inside the stream's directory
    ['/live/room1/000123.ts', k('live', 'room1', 'hls')],
    ['/live/room1/seg-7.m4s', k('live', 'room1', 'hls')],
    ['/live/room1/a.aac', k('live', 'room1', 'hls')],
    // shape 2 and 3: the stream name with a sequence suffix, which is dropped
    ['/live/room1-42.ts', k('live', 'room1', 'hls')],
    ['/live/room1_1700000000.ts', k('live', 'room1', 'hls')],
    ['/live/my-room-42.ts', k('live', 'my-room', 'hls')],
    ['/live/my_room_42.ts', k('live', 'my_room', 'hls')],
    ['/live/room1-2-3.ts', k('live', 'room1-2', 'hls')],
    ['/live/2026-7.ts', k('live', '2026', 'hls')],
    ['/live/a.b.flv', k('live', 'a.b', 'flv')],
  ])('%s', (uri, expected) => {
    expect(streamOfUri(uri)).toEqual(expected);
  });

  it('ignores query strings and fragments', () => {
    expect(streamOfUri('/live/room1.flv?auth_key=1-0-0-abc&x=/y.m3u8')).toEqual(k('live', 'room1', 'flv'));
    expect(streamOfUri('/live/room1-42.ts?t=1')).toEqual(k('live', 'room1', 'hls'));
    expect(streamOfUri('/live/room1/1.ts#x')).toEqual(k('live', 'room1', 'hls'));
    expect(streamOfUri('/live/room1.m3u8?')).toEqual(k('live', 'room1', 'hls'));
    expect(streamOfUri('/live?x=/a/b.flv')).toBe(OTHER_STREAM);
  });

  it('reads an absolute-form target (with the domain) by its path', () => {
    expect(streamOfUri('http://play.example.com/live/room1.flv')).toEqual(k('live', 'room1', 'flv'));
    expect(streamOfUri('HTTPS://play.example.com:8443/live/room1-3.ts?k=v')).toEqual(k('live', 'room1', 'hls'));
    expect(streamOfUri('http://play.example.com')).toBe(OTHER_STREAM);
    expect(streamOfUri('http://play.example.com?/live/a.flv')).toBe(OTHER_STREAM);
  });

  it('percent-decodes names, keeping undecodable ones as logged', () => {
    expect(streamOfUri('/live/%E9%A2%91%E9%81%93%201.flv')).toEqual(k('live', '频道 1', 'flv'));
    expect(streamOfUri('/li%76e/room%zz.flv')).toEqual(k('live', 'room%zz', 'flv'));
    expect(streamOfUri('/live/a%2Fb.flv')).toBe(OTHER_STREAM); // a '/' inside a name
    expect(streamOfUri('/live/a%00b.flv')).toBe(OTHER_STREAM); // a control character
  });

  it.each([
    '', '/', '-', '*', 'live/room1.flv', '/room1.flv', '/live/room1', '/live/room1.mp4', '/live/room1.ts',
    '/live/-42.ts', '/live/room1-.ts', '/live/room1-4a.ts', '/live/.flv', '/live/.m3u8', '//room1.flv', '/live//1.ts',
    '/live/room1/.ts', '/live/room1/index.m3u8', '/live/room1/a.flv', '/a/b/c/d.ts', '/live/room1.flv/',
    '/live/room1.FLV', '/live/room1.M3U8', `/live/${'x'.repeat(257)}.flv`,
  ])('%s is other', (uri) => {
    expect(streamOfUri(uri)).toBe(OTHER_STREAM);
  });
});

describe('streamOfUri: properties over generated URIs', () => {
  let seed = 20261201;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const ALPHABET = ['a', 'Z', '0', '7', '-', '_', '.', ' ', '%', '%2F', '%zz', '/', '?', '#', '&', '=', '频', '\t', '\u0000', 'ts', 'flv', 'm3u8'];
  const noise = (): string => Array.from({ length: rnd(12) }, () => pick(ALPHABET)).join('');
  const NAME_CHARS = ['a', 'B', '9', '-', '_', '.', ' ', '频', '~', '+', '%', '#', '?', '&'];
  const name = (): string => {
    let s = '';
    do s = Array.from({ length: 1 + rnd(10) }, () => pick(NAME_CHARS)).join('');
    while (!isStreamName(s));
    return s;
  };
  const enc = encodeURIComponent;

  it('never throws and always answers a valid key or OTHER_STREAM', () => {
    for (let i = 0; i < 5000; i++) {
      const uri = pick(['', '/', 'http://h', 'https://h:1']) + Array.from({ length: rnd(5) }, noise).join('/');
      const r = streamOfUri(uri);
      if (r !== OTHER_STREAM) {
        expect(r.protocol === 'flv' || r.protocol === 'hls', uri).toBe(true);
        expect(isStreamName(r.app) && isStreamName(r.stream), uri).toBe(true);
      }
    }
  });

  it('recovers (app, stream, protocol) from every shape, whatever query or domain prefix follows or precedes', () => {
    for (let i = 0; i < 3000; i++) {
      const app = name();
      const stream = name();
      const seq = String(rnd(100000));
      const [path, protocol] = pick<[string, 'flv' | 'hls']>([
        [`/${enc(app)}/${enc(stream)}.flv`, 'flv'],
        [`/${enc(app)}/${enc(stream)}.m3u8`, 'hls'],
        [`/${enc(app)}/${enc(stream)}/${seq}.${pick(['ts', 'm4s', 'aac'])}`, 'hls'],
        [`/${enc(app)}/${enc(stream)}${pick(['-', '_'])}${seq}.ts`, 'hls'],
      ]);
      const prefix = pick(['', 'http://play.example.com', 'https://a.b:8443']);
      const query = pick(['', '?', `?${noise()}`, `#${noise()}`, '?k=/x/y.flv']);
      expect(streamOfUri(prefix + path + query), prefix + path + query).toEqual({ app, stream, protocol });
    }
  });
});

import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { rng } from '../../../test/helpers/rng.js';
import { decodeIpSet } from '../blocks/ip-set.js';
import { HLS_SETS, migrateAudienceSets, SetEntries, USER_SETS } from './audience-sets.js';
import { audienceDdl } from './audience-layout.js';

/**
 * The exact sets' merge against a model of JS Sets: several times with up to 300 keys each (past the
 * read and write chunks of 64 keys), repeated and new addresses across four merges (what retried
 * or split batches give): each address is fresh once per set, with its first entry's numbers, and
 * the stored sets are the model's. A real SQLite file (in memory).
 */
it('merges entries into the stored sets exactly, a fresh callback once per new address, whatever the number of keys per time', () => {
  const db = new Database(':memory:');
  db.exec(audienceDdl());
  migrateAudienceSets(db);
  const rand = rng(3);
  for (const t of [HLS_SETS, USER_SETS]) {
    const model = new Map<string, Set<number>>();
    for (let round = 0; round < 4; round++) {
      const e = new SetEntries();
      const firstOf = new Map<string, [number, number]>();
      const expected = new Set<string>();
      db.transaction(() => {
        for (let i = 0; i < 6000; i++) {
          const time = 1000 + Math.floor(rand() * 3);
          const key = Math.floor(rand() * (time === 1000 ? 300 : 40));
          const ip = Math.floor(rand() * 50) * 2 ** 26 + Math.floor(rand() * 3);
          const a = i;
          const b = Math.floor(rand() * 200);
          e.add(time, key, ip, a, b);
          const set = `${time}|${key}`;
          const entry = `${set}|${ip}`;
          if (!(model.get(set)?.has(ip) ?? false) && !firstOf.has(entry)) {
            firstOf.set(entry, [a, b]);
            expected.add(`${entry}|${a}|${b}`);
          }
        }
        const got = new Set<string>();
        // fresh() hands back the numbers, not the address: found by the first entry's number a.
        const ipOfA = new Map<number, string>();
        for (const [entry, [a]] of firstOf) ipOfA.set(a, entry);
        e.merge(db, t, (time, key, a, b) => {
          const entry = ipOfA.get(a);
          expect(entry?.startsWith(`${time}|${key}|`)).toBe(true);
          got.add(`${entry}|${a}|${b}`);
        });
        expect(got).toEqual(expected);
      })();
      for (const entry of firstOf.keys()) {
        const [time, key, ip] = entry.split('|');
        const set = `${time}|${key}`;
        if (!model.has(set)) model.set(set, new Set());
        model.get(set)?.add(Number(ip));
      }
    }
    const stored = db.prepare(`SELECT ${t.time}, ${t.key}, ips FROM ${t.name}`).raw().all() as Array<[number, number, Uint8Array]>;
    expect(stored.length).toBe(model.size);
    for (const [time, key, ips] of stored) expect([...decodeIpSet(ips)]).toEqual([...(model.get(`${time}|${key}`) ?? [])].sort((x, y) => x - y));
  }
  db.close();
});

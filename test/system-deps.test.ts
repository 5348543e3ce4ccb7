import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

// The logic of scripts/system-deps.sh (what `npm test` runs first) on a fake package list.
// This test alone puts stub `dpkg-query`, `apt-get` and `id` first on PATH: it must not install
// anything for real, and it needs to pretend to be root and non-root. The stubs log each call.
const script = join(import.meta.dirname, '..', 'scripts', 'system-deps.sh');

interface Run { code: number | null; stdout: string; stderr: string; aptCalls: string[] }

function run(installed: string[], uid: number, list = 'pkg-a            # the first reason\npkg-b pkg-c      # two on a line\n\n# a comment line\n'): Run {
  const dir = tempDir('sysdeps-');
  const bin = join(dir.dir, 'bin');
  mkdirSync(bin);
  const log = join(dir.dir, 'apt.log');
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // dpkg-query -W -f='${Status}' NAME: installed only when NAME is in FAKE_INSTALLED
  stub('dpkg-query', 'for a; do n="$a"; done\ncase " $FAKE_INSTALLED " in *" $n "*) printf "install ok installed";; *) echo "no packages found matching $n" >&2; exit 1;; esac');
  stub('apt-get', `echo "apt-get $*" >> '${log}'`);
  stub('id', `echo ${uid}`);
  const listFile = join(dir.dir, 'apt-packages');
  writeFileSync(listFile, list);
  const r = spawnSync('bash', [script], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_INSTALLED: installed.join(' '), LIVESTATS_APT_PACKAGES: listFile },
  });
  const aptCalls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  dir.remove();
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, aptCalls };
}

describe('scripts/system-deps.sh', () => {
  it('does nothing when every package is installed', () => {
    for (const uid of [0, 1000]) {
      const r = run(['pkg-a', 'pkg-b', 'pkg-c'], uid);
      expect(r).toEqual({ code: 0, stdout: '', stderr: '', aptCalls: [] });
    }
  });

  it('as root, runs apt-get update once and one install line for the missing packages', () => {
    const r = run(['pkg-b'], 0);
    expect(r.code).toBe(0);
    expect(r.aptCalls).toEqual(['apt-get update', 'apt-get install -y pkg-a pkg-c']);
    expect(r.stdout).toContain('the tests need 2 Debian package(s) that are not installed');
    expect(r.stdout).toMatch(/pkg-a +the first reason/);
    expect(r.stdout).toMatch(/pkg-c +two on a line/);
    expect(r.stdout).toContain('installed pkg-a pkg-c');
  });

  it('without root, names the packages and the sudo line, calls no apt-get and exits non-zero', () => {
    const r = run([], 1000);
    expect(r.code).toBe(1);
    expect(r.aptCalls).toEqual([]);
    expect(r.stdout).toMatch(/pkg-a +the first reason/);
    expect(r.stderr).toContain('  sudo apt-get install -y pkg-a pkg-b pkg-c\n');
  });

  it('passes on apt-get\'s failure as its own', () => {
    const failing = tempDir('sysdeps-fail-');
    const bin = join(failing.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'dpkg-query'), '#!/bin/sh\nexit 1\n');
    writeFileSync(join(bin, 'apt-get'), '#!/bin/sh\n[ "$1" = update ] && exit 0\necho "E: Unable to locate package pkg-a" >&2\nexit 100\n');
    writeFileSync(join(bin, 'id'), '#!/bin/sh\necho 0\n');
    for (const n of ['dpkg-query', 'apt-get', 'id']) chmodSync(join(bin, n), 0o755);
    writeFileSync(join(failing.dir, 'list'), 'pkg-a\n');
    const f = spawnSync('bash', [script], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, LIVESTATS_APT_PACKAGES: join(failing.dir, 'list') } });
    failing.remove();
    expect(f.status).toBe(100);
    expect(f.stderr).toContain('Unable to locate package pkg-a');
  });

  it('reads the real list: every line names at least one package', () => {
    const lines = readFileSync(join(import.meta.dirname, '..', '.ci', 'apt-packages'), 'utf8').split('\n')
      .map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^[a-z0-9][a-z0-9+.-]*( [a-z0-9][a-z0-9+.-]*)*$/);
  });
});

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * Separate network hosts on this machine: one network namespace per host, each joined by a veth
 * pair to a bridge in the test's own namespace (which holds the bridge's address, so the test and
 * livestats reach every host). Cutting a host off takes its veth's bridge end down: its processes
 * keep running, but no packet reaches or leaves it. Needs root (CAP_NET_ADMIN).
 */
export interface NetHost {
  name: string;
  /** The namespace to run its processes in (`ip netns exec`). */
  netns: string;
  ip: string;
}

export interface Net {
  /** The test's own address on the bridge. */
  gateway: string;
  hosts: NetHost[];
  /** Cuts the host off the network (or joins it again). */
  cut(host: NetHost): void;
  heal(host: NetHost): void;
  /** Removes every namespace, veth and the bridge. */
  destroy(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Whether namespaces can be made here (root, `ip` present, a kernel that allows it). */
export function netnsWorks(): { ok: true } | { ok: false; why: string } {
  const probe = `lsprobe${randomInt(1_000_000)}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim() };
  }
}

export function makeNet(names: string[]): Net {
  const id = randomInt(100_000, 999_999).toString(36);
  const subnet = `10.224.${randomInt(1, 254)}`;
  const bridge = `lsb${id}`;
  const hosts: NetHost[] = names.map((name, i) => ({ name, netns: `ls${id}-${name}`, ip: `${subnet}.${i + 10}` }));
  const hostEnd = (i: number): string => `lsv${id}${i}`;
  const made: string[] = [];
  const net: Net = {
    gateway: `${subnet}.1`,
    hosts,
    cut(host) {
      ip('link', 'set', hostEnd(hosts.indexOf(host)), 'down');
    },
    heal(host) {
      ip('link', 'set', hostEnd(hosts.indexOf(host)), 'up');
    },
    destroy() {
      for (const ns of made) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      try {
        ip('link', 'del', bridge);
      } catch {
        // already gone
      }
    },
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${net.gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    hosts.forEach((h, i) => {
      ip('netns', 'add', h.netns);
      made.push(h.netns);
      ip('link', 'add', hostEnd(i), 'type', 'veth', 'peer', 'name', `lsn${id}${i}`);
      ip('link', 'set', `lsn${id}${i}`, 'netns', h.netns);
      ip('netns', 'exec', h.netns, 'ip', 'link', 'set', `lsn${id}${i}`, 'name', 'eth0');
      ip('netns', 'exec', h.netns, 'ip', 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
      ip('netns', 'exec', h.netns, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', h.netns, 'ip', 'link', 'set', 'lo', 'up');
      ip('link', 'set', hostEnd(i), 'master', bridge);
      ip('link', 'set', hostEnd(i), 'up');
    });
  } catch (err) {
    net.destroy();
    throw new Error(`could not make the test network: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`);
  }
  process.once('exit', () => net.destroy());
  return net;
}

import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The one place tests check for the system tools they run. `npm test` installs them first
 * (scripts/system-deps.sh, from .ci/apt-packages); run directly with `npx vitest`, a file that
 * needs a missing tool fails at once with one line naming the Debian package, instead of an
 * ENOENT stack trace from a spawn deep inside a test.
 */
export type SystemTool = 'clickhouse-server' | 'ffmpeg' | 'ffprobe' | 'nginx' | 'nginx-rtmp' | 'chromium' | 'curl' | 'prometheus' | 'promtool' | 'zookeeper';

interface ToolSpec {
  /** A command looked up on PATH, or an absolute path. */
  find: string;
  /** The Debian package that provides it. */
  pkg: string;
}

export const SYSTEM_TOOLS: Readonly<Record<SystemTool, ToolSpec>> = {
  'clickhouse-server': { find: 'clickhouse-server', pkg: 'clickhouse-server' },
  ffmpeg: { find: 'ffmpeg', pkg: 'ffmpeg' },
  ffprobe: { find: 'ffprobe', pkg: 'ffmpeg' },
  nginx: { find: 'nginx', pkg: 'nginx' },
  'nginx-rtmp': { find: '/usr/lib/nginx/modules/ngx_rtmp_module.so', pkg: 'libnginx-mod-rtmp' },
  chromium: { find: '/usr/bin/chromium', pkg: 'chromium' },
  curl: { find: 'curl', pkg: 'curl' },
  prometheus: { find: 'prometheus', pkg: 'prometheus' },
  promtool: { find: 'promtool', pkg: 'prometheus' },
  zookeeper: { find: '/usr/share/java/zookeeper.jar', pkg: 'zookeeper' },
};

/** Where `find` resolves: the absolute path itself, else the first PATH entry holding it. */
export function locate(find: string, path: string | undefined, mode = constants.X_OK): string | undefined {
  const usable = (p: string): boolean => {
    try {
      accessSync(p, mode);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(find)) return usable(find) ? find : undefined;
  // Debian puts nginx and clickhouse-server in /usr/sbin, which a non-root PATH often lacks.
  for (const dir of [...(path ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    if (dir !== '' && usable(join(dir, find))) return join(dir, find);
  }
  return undefined;
}

/** The one-line message for missing tools, or undefined when all are there. */
export function missingToolsMessage(tools: readonly SystemTool[], path: string | undefined): string | undefined {
  const missing = tools.filter((t) => {
    const spec = SYSTEM_TOOLS[t];
    return locate(spec.find, path, t === 'nginx-rtmp' || t === 'zookeeper' ? constants.R_OK : constants.X_OK) === undefined;
  });
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map((t) => SYSTEM_TOOLS[t].pkg))];
  return `missing system tool${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: \`npm test\` installs them, or run \`sudo apt-get install -y ${pkgs.join(' ')}\``;
}

const checked = new Map<SystemTool, string>();

/** Throws (failing the test file) unless every tool is present; each tool is checked once per process. */
export function requireTools(...tools: SystemTool[]): void {
  const todo = tools.filter((t) => !checked.has(t));
  const msg = missingToolsMessage(todo, process.env.PATH);
  if (msg !== undefined) throw new Error(msg);
  for (const t of todo) {
    const spec = SYSTEM_TOOLS[t];
    checked.set(t, locate(spec.find, process.env.PATH, t === 'nginx-rtmp' || t === 'zookeeper' ? constants.R_OK : constants.X_OK) ?? spec.find);
  }
}

/** The resolved path of a tool, after checking it is there. */
export function toolPath(tool: SystemTool): string {
  requireTools(tool);
  return checked.get(tool) ?? SYSTEM_TOOLS[tool].find;
}

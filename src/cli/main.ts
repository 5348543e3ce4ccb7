import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import { fsErrorText } from '../store/data-dir-choice.js';

type Command = (argv: string[]) => Promise<number>;

// Each command is loaded when run, so a command does not pay for the others' modules at start-up.
const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: async (argv) => (await import('./serve.js')).serveCommand(argv), help: 'run the API server (see `livestats serve --help`)' },
  ingest: { run: async (argv) => (await import('./ingest.js')).ingestCommand(argv), help: 'read access logs into the store (see `livestats ingest --help`)' },
  keys: { run: async (argv) => (await import('./keys.js')).keysCommand(argv), help: 'create, list and revoke API credentials (AK/SK, tokens)' },
  probe: { run: async (argv) => (await import('./probe.js')).probeCommand(argv), help: 'measure a live stream per second and send it to a server' },
  carousel: { run: async (argv) => (await import('./carousel.js')).carouselCommand(argv), help: 'play files as a 24/7 channel and probe it (`carousel run --help`)' },
  tasks: { run: async (argv) => (await import('./tasks.js')).tasksCommand(argv), help: 'list carousel tasks (`tasks list --project P`)' },
};

function usage(): string {
  const lines = ['Usage: livestats <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.help}`);
  lines.push('  help       show this help', '  version    print the version');
  return lines.join('\n');
}

/** The `livestats` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`livestats: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // Every expected mistake has its own message; anything else is still one line, not a stack trace.
    const fs = fsErrorText(err);
    if (fs) {
      console.error(`livestats ${name}: ${fs}`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    const where = typeof e.path === 'string' && !String(e.message).includes(e.path) ? ` (${e.path})` : '';
    console.error(`livestats ${name}: ${e?.message ?? String(err)}${where}`);
    if (process.env.LIVESTATS_DEBUG) console.error(e?.stack);
    else console.error('livestats: unexpected error; set LIVESTATS_DEBUG=1 to see where it happened, and report it if it is a bug');
    return 1;
  }
}

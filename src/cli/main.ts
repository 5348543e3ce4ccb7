import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import { keysCommand } from './keys.js';
import { serveCommand } from './serve.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: serveCommand, help: 'run the API server (see `livestats serve --help`)' },
  keys: { run: (argv) => keysCommand(argv), help: 'create, list and revoke API credentials (AK/SK, tokens)' },
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
  return command.run(rest);
}

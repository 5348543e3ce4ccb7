import { parseArgs } from 'node:util';
import { isProjectId } from '../api/project.js';
import { createCredentials, CredentialsError, readCredentials, revokeCredential } from '../auth/credentials.js';
import { checkDataDir, chooseDataDir, choiceNote, DataDirError, describeFsError, makeDataDir } from '../store/data-dir-choice.js';

const HELP = `Usage:
  livestats keys create --project <id> [--json]   create an AK/SK pair and an API token (secrets shown once)
  livestats keys list [--json]                    list access keys and token ids (never secrets)
  livestats keys revoke <ak|token-id>             revoke an access key or a token

Options:
  --data <dir>   data directory holding credentials.json, the server's --data [LIVESTATS_DATA;
                 else ./data if it is a livestats data directory]
A running server picks up every change within about a second.`;

export interface KeysIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: KeysIo = { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env };


function create(dir: string, project: string | undefined, json: boolean, io: KeysIo): number {
  if (project === undefined || !isProjectId(project)) {
    io.err('livestats keys create: --project <id> is required (letters, digits, "_" and "-", up to 64 characters)');
    return 2;
  }
  const c = createCredentials(dir, project);
  if (json) {
    io.out(JSON.stringify({ project_id: c.project_id, ak: c.ak, sk: c.sk, token: c.token, token_id: c.token_id }));
  } else {
    io.out([
      `Created credentials for project "${c.project_id}". The SK and the token are shown only now:`,
      `  AK     ${c.ak}`,
      `  SK     ${c.sk}`,
      `  Token  ${c.token}   (id ${c.token_id})`,
    ].join('\n'));
  }
  return 0;
}

function list(dir: string, json: boolean, io: KeysIo): number {
  const file = readCredentials(dir) ?? { version: 1, keys: [], tokens: [] };
  const rows = [
    ...file.keys.map((k) => ({ type: 'ak', id: k.ak, project_id: k.project_id, created_at: k.created_at })),
    ...file.tokens.map((t) => ({ type: 'token', id: t.id, project_id: t.project_id, created_at: t.created_at })),
  ];
  if (json) {
    io.out(JSON.stringify(rows));
    return 0;
  }
  if (rows.length === 0) {
    io.out('No credentials. Create some with `livestats keys create --project <id>`.');
    return 0;
  }
  io.out(`${'TYPE'.padEnd(6)} ${'ID'.padEnd(22)} ${'PROJECT'.padEnd(20)} CREATED`);
  for (const r of rows) io.out(`${r.type.padEnd(6)} ${r.id.padEnd(22)} ${r.project_id.padEnd(20)} ${r.created_at}`);
  return 0;
}

function revoke(dir: string, id: string | undefined, io: KeysIo): number {
  if (id === undefined || id.length === 0) {
    io.err('livestats keys revoke: give the AK or the token id to revoke (see `livestats keys list`)');
    return 2;
  }
  if (!revokeCredential(dir, id)) {
    io.err(`livestats keys revoke: no access key or token "${id}"`);
    return 1;
  }
  io.out(`Revoked ${id}.`);
  return 0;
}

/** `livestats keys create|list|revoke`; returns the exit code. */
export async function keysCommand(argv: string[], io: KeysIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { project: { type: 'string' }, json: { type: 'boolean' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    io.err(`livestats keys: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined || sub === 'help') {
    (values.help || sub === 'help' ? io.out : io.err)(HELP);
    return values.help || sub === 'help' ? 0 : 2;
  }
  const known = (sub === 'create' || sub === 'list') ? rest.length === 0 : sub === 'revoke' && rest.length <= 1;
  if (!known) {
    io.err(`livestats keys: unknown or malformed command "${positionals.join(' ')}"\n\n${HELP}`);
    return 2;
  }
  if (sub === 'create' && (values.project === undefined || !isProjectId(values.project))) {
    io.err('livestats keys create: --project <id> is required (letters, digits, "_" and "-", up to 64 characters)');
    return 2;
  }
  let dir: string;
  try {
    const choice = chooseDataDir(values.data, io.env);
    dir = choice.dir;
    const note = choiceNote(choice);
    if (note) io.err(`livestats keys: ${note}`);
    // Only `create` may make the directory; list and revoke read (and revoke rewrites) what is there.
    checkDataDir(dir, { mustExist: sub !== 'create', write: sub !== 'list' });
    if (sub === 'create') makeDataDir(dir);
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err;
    io.err(`livestats keys: ${err.message}`);
    return 2;
  }
  try {
    if (sub === 'create') return create(dir, values.project, values.json ?? false, io);
    if (sub === 'list') return list(dir, values.json ?? false, io);
    return revoke(dir, rest[0], io);
  } catch (err) {
    if (err instanceof CredentialsError || err instanceof DataDirError) {
      io.err(`livestats keys: ${err.message}`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('E')) {
      io.err(`livestats keys: ${describeFsError(err, dir).message}`);
      return 1;
    }
    throw err;
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isProjectId } from '../api/project.js';
import { formatUtcSecond } from '../contract/time.js';
import { createStore } from '../store/index.js';
import { StoreDamagedError } from '../store/sqlite/open-check.js';
import { checkDataDir, chooseDataDir, choiceNote, DataDirError } from '../store/data-dir-choice.js';

const HELP = [
  'Usage: livestats tasks list --project <id> [--data <dir>]',
  '',
  'Lists the carousel tasks of a project with their creation and last-sample times.',
  '  --data <dir>   data directory of the server [LIVESTATS_DATA; else ./data if it is one]',
].join('\n');

/** `livestats tasks list`. */
export async function tasksCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'list') {
    const help = sub === '--help' || sub === '-h';
    console.error(help || sub === undefined ? HELP : `livestats tasks: unknown subcommand "${sub}"\n\n${HELP}`);
    return help ? 0 : 2;
  }
  let values;
  try {
    values = parseArgs({ args: rest, strict: true, options: { project: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    console.error(`livestats tasks: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.project || !isProjectId(values.project)) {
    console.error(`livestats tasks: --project <id> is required\n\n${HELP}`);
    return 2;
  }
  // Only reads: the data directory and its database must exist (nothing is created).
  let data: string;
  try {
    const choice = chooseDataDir(values.data);
    data = choice.dir;
    const note = choiceNote(choice);
    if (note) console.error(`livestats tasks: ${note}`);
    checkDataDir(data, { mustExist: true, write: false });
    if (!existsSync(join(data, 'livestats.db'))) {
      throw new DataDirError(`data directory ${data} holds no livestats database (livestats.db); is it the server's --data?`);
    }
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err;
    console.error(`livestats tasks: ${err.message}`);
    return 2;
  }
  // A read beside a running server: the header and schema are checked, not every page.
  let store;
  try {
    store = createStore({ store: 'sqlite', data }, { startCheck: 'header' });
  } catch (err) {
    if (!(err instanceof StoreDamagedError)) throw err;
    console.error(`livestats tasks: ${err.message}`);
    return 1;
  }
  try {
    try {
      await store.init();
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      console.error(`livestats tasks: ${err.message}`);
      return 1;
    }
    const tasks = await store.listTasks(values.project);
    if (tasks.length === 0) {
      console.log(`no carousel tasks in project ${values.project}`);
      return 0;
    }
    const width = Math.max(4, ...tasks.map((t) => t.taskId.length));
    console.log(`${'TASK'.padEnd(width)}  CREATED               LAST SAMPLE`);
    for (const t of tasks) {
      const last = t.lastSampleAt === null ? '-' : formatUtcSecond(t.lastSampleAt);
      console.log(`${t.taskId.padEnd(width)}  ${formatUtcSecond(t.createdAt)}  ${last}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

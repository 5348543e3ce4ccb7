import { parseArgs } from 'node:util';
import { CarouselRunner } from '../carousel/runner.js';
import { STREAM_FLAGS, STREAM_HELP, streamSetup, untilSignal } from './stream-options.js';

const HELP = [
  'Usage: livestats carousel run --project <id> --task <id> --playlist a.mp4,b.mp4[,...] --to <url> [--loop] [options]',
  '',
  'Plays the files back to back in real time (ffmpeg -re, concat, stream copy) to the target,',
  'restarting ffmpeg when it dies and skipping broken files, and probes the target so the task',
  'telemetry (per-second fps/kbps) reaches the livestats server. Stops on Ctrl-C.',
  '',
  'Options:',
  '  --playlist <files>       comma-separated media files (required)',
  '  --to <url>               publish target, e.g. rtmp://127.0.0.1/live/channel1 (required)',
  '  --loop                   play the playlist forever',
  '  --probe <url>            watch this URL instead of --to (e.g. the HTTP-FLV edge)',
  ...STREAM_HELP,
].join('\n');

/** `livestats carousel run`. */
export async function carouselCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'run') {
    console.error(sub === undefined || sub === '--help' || sub === '-h' ? HELP : `livestats carousel: unknown subcommand "${sub}"\n\n${HELP}`);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  let values;
  let setup;
  try {
    values = parseArgs({
      args: rest, strict: true,
      options: { ...STREAM_FLAGS, playlist: { type: 'string' }, to: { type: 'string' }, loop: { type: 'boolean' }, probe: { type: 'string' } },
    }).values;
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!values.playlist) throw new Error('--playlist is required');
    if (!values.to || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(values.to)) throw new Error('--to <url> is required');
    setup = streamSetup(values);
  } catch (err) {
    console.error(`livestats carousel: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const playlist = values.playlist.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
  const runner = new CarouselRunner({
    project: setup.project, taskId: setup.taskId, playlist, to: values.to as string, loop: values.loop === true,
    ...(values.probe ? { probeUrl: values.probe } : {}),
    sink: setup.sink, log: setup.logger,
    probe: { stallTimeoutMs: setup.stallTimeoutMs, bucketer: setup.bucketer },
  });
  const outcome = await Promise.race([
    runner.start().then(() => 'finished', (err: Error) => `failed: ${err.message}`),
    untilSignal(),
    setup.authRejected.then((m) => `refused: ${m}`),
  ]);
  await runner.stop();
  if (outcome.startsWith('refused: ')) {
    // The server will not take samples with this token: nothing left to send.
    console.error(`livestats carousel: ${outcome.slice('refused: '.length)}`);
    return 1;
  }
  await setup.sink.close();
  setup.logger.info({ outcome }, 'carousel: stopped');
  return outcome.startsWith('failed') ? 1 : 0;
}

import { parseArgs } from 'node:util';
import { StreamProbe } from '../probe/probe.js';
import { STREAM_FLAGS, STREAM_HELP, streamSetup, untilSignal } from './stream-options.js';

const HELP = [
  'Usage: livestats probe --project <id> --task <id> [options] <stream-url>',
  '',
  'Pulls a live stream with ffprobe (RTMP, HTTP-FLV, HLS, SRT, MPEG-TS over UDP/TCP) and reports,',
  'for every second, video frames, video kbps, audio frames and audio kbps to a livestats server.',
  'Outages are reported as zeros; the probe reconnects with backoff. Stops on Ctrl-C.',
  '',
  'Options:',
  ...STREAM_HELP,
].join('\n');

/** `livestats probe`: measures one stream until SIGINT/SIGTERM. */
export async function probeCommand(argv: string[]): Promise<number> {
  let parsed;
  let setup;
  try {
    parsed = parseArgs({ args: argv, options: STREAM_FLAGS, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      console.log(HELP);
      return 0;
    }
    if (parsed.positionals.length !== 1) throw new Error('exactly one stream URL is required');
    setup = streamSetup(parsed.values);
  } catch (err) {
    console.error(`livestats probe: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const url = parsed.positionals[0] as string;
  const probe = new StreamProbe({
    url, log: setup.logger, onSamples: (s) => setup.sink.add(s),
    stallTimeoutMs: setup.stallTimeoutMs, bucketer: setup.bucketer,
  });
  setup.logger.info({ url, project: setup.project, task: setup.taskId }, 'probe: starting');
  probe.start();
  const ended = await Promise.race([untilSignal().then((signal) => ({ signal })), setup.authRejected.then((refused) => ({ refused }))]);
  if ('refused' in ended) {
    await probe.stop();
    console.error(`livestats probe: ${ended.refused}`);
    return 1;
  }
  setup.logger.info({ signal: ended.signal }, 'probe: stopping');
  await probe.stop();
  await setup.sink.close();
  return 0;
}

import { serveCodec } from '../codec-server.js';
import { CliError, EXIT, commandSpec, defineCommand } from '../command.js';

const spec = commandSpec({
  usage: 'codec-server [--bind HOST:PORT] [--origin URL ...]',
  description: `
Serves the codec endpoint that shows the project's compressed payloads (a chunk's record, large
activity results) decoded: give its URL to the Temporal Web UI (TEMPORAL_CODEC_ENDPOINT for the UI's
image, --ui-codec-endpoint for a dev server) or to the Temporal CLI (--codec-endpoint). It only
inflates (or compresses) what it is sent: it holds no secret and calls no system. The browser calls it, so bind it
where the browser reaches it, and name the Web UI's origin. "bulk-delete dev" and
"npm run temporal:dev" serve one themselves. Ctrl-C or SIGTERM stops it.`,
  options: {
    bind: { type: 'string' },
    origin: { type: 'string', multiple: true },
  },
  valueNames: { bind: 'HOST:PORT', origin: 'URL' },
  optionHelp: {
    bind: 'where to listen (default 127.0.0.1:8234)',
    origin:
      'a Web UI origin allowed to call it, e.g. http://127.0.0.1:8233 (default that and localhost:8233)',
  },
  positionals: [],
});

/** `bulk-delete codec-server`. */
export const codecServerCommand = defineCommand('codec-server', spec, async (args, io) => {
  const bind = args.values.bind ?? '127.0.0.1:8234';
  if (!/^[^\s/]+:\d{1,5}$/.test(bind) || Number(bind.split(':').at(-1)) > 65535) {
    throw new CliError(`--bind must be HOST:PORT, e.g. 0.0.0.0:8234, got "${bind}"`);
  }
  const given = args.values.origin as string[] | string | undefined;
  const origins = given === undefined ? ['http://127.0.0.1:8233', 'http://localhost:8233'] : [given].flat();
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin.replace(/\/$/, '')) {
      throw new CliError(`--origin must be a Web UI origin such as http://127.0.0.1:8233, got "${origin}"`);
    }
  }
  let codec;
  try {
    codec = await serveCodec({ bind, origins: origins.map((o) => o.replace(/\/$/, '')) });
  } catch (error) {
    throw new CliError(`cannot listen on ${bind}: ${(error as Error).message}`);
  }
  io.err(`codec endpoint ${codec.url} for ${origins.join(', ')}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await codec.close();
  io.err('codec endpoint stopped');
  return EXIT.ok;
});

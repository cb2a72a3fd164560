import { startWorker } from '../worker/main.js';
import { runDev } from './dev.js';

const USAGE = `usage: bulk-delete <command> [options]

commands:
  dev [--once]   everything local in one process tree: Temporal dev server, worker, example plan
  worker         a worker on the configured task queue (Ctrl-C stops it)
`;

/** Runs one command line and answers its exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return runDev({ once: rest.includes('--once') });
    case 'worker': {
      const running = await startWorker();
      console.log('worker started; Ctrl-C stops it');
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => void running.stop());
      }
      await running.done;
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

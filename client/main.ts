import { EnvFileError, loadEnvFile } from '../config/env-file.js';
import { EXIT } from './command.js';
import { runCli } from './cli.js';

// A reader that stops early (`bulk-delete schedule describe X | head`) closes stdout: the rest is not
// wanted, and a run the command follows goes on in Temporal.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? EXIT.ok);
});

// `.env` (see .env.example) is read when present; the environment itself wins over it.
try {
  loadEnvFile();
  process.exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  // Only a .env that cannot be read gets here (runCli answers an exit code for everything else).
  if (!(error instanceof EnvFileError)) throw error;
  process.stderr.write(`bulk-delete: ${error.message}\n`);
  process.exitCode = EXIT.badInput;
}

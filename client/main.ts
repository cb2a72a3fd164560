import { EnvFileError, loadEnvFile } from '../config/env-file.js';
import { EXIT } from './command.js';
import { runCli } from './cli.js';

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

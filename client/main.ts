import { loadEnvFile } from '../config/env-file.js';
import { runCli } from './cli.js';

// `.env` (see .env.example) is read when present; the environment itself wins over it.
loadEnvFile();
process.exitCode = await runCli(process.argv.slice(2));

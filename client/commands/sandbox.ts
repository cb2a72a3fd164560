import { runSandboxCommand } from '../../sandbox/main.js';
import type { Command } from '../command.js';

/** `bulk-delete sandbox`: the local stand-ins for the three APIs (its own options and --help). */
export const sandboxCommand: Command = {
  name: 'sandbox',
  run: (argv) => runSandboxCommand(argv),
};

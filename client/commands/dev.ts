import { commandSpec, defineCommand } from '../command.js';
import { runDev } from '../dev.js';

const spec = commandSpec({
  usage: 'dev [--once] [--plan FILE] [--seed FILE] [--json]',
  description: `
Everything local in one process tree: a Temporal dev server with its Web UI (SQLite under .data/,
gRPC 7233, UI 8233; TEMPORAL_DEV_PORT, TEMPORAL_UI_PORT, TEMPORAL_DB_FILE override), the sandbox
seeded with a demo catalogue, and a worker pointed at the sandbox. Runs the example plan with live
progress, then prints the summary and the run's Web UI link, and stays up until Ctrl-C so that the
link stays live and other commands can run against the stack (this is "npm start"). With --once, for
scripts, it shuts everything down after the run. Installs the Temporal CLI first when none is found.
The exit code is the run's (0, 1 or 3).`,
  options: {
    once: { type: 'boolean' },
    plan: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    once: 'run the plan, then shut everything down',
    plan: 'the plan to run (default examples/takedown.json)',
    seed: "the sandbox's catalogue (default examples/demo-catalogue.json)",
    json: 'print the JSON of "run --wait --json" on stdout',
  },
  valueNames: { plan: 'FILE', seed: 'FILE' },
  positionals: [],
});

/** `bulk-delete dev`. */
export const devCommand = defineCommand('dev', spec, async (args, io) => {
  const { once, plan, seed, json } = args.values;
  return runDev(
    { once: once ?? false, ...(plan ? { plan } : {}), ...(seed ? { seed } : {}), json: json ?? false },
    io,
  );
});

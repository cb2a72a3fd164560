import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleSpec,
} from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatIssue, parseJsonDocument, parsePlanText, planFormatOf } from '../../plan/index.js';
import { webUiBase } from '../../config/temporal-config.js';
import { CleanupPolicy, scheduledCleanupWorkflow } from '../../workflows/index.js';
import {
  CliError,
  EXIT,
  MAX_DURATION_DAYS,
  commandSpec,
  plural,
  type Io,
  type Parsed,
  defineCommand,
} from '../command.js';
import { table } from '../progress-view.js';
import { withClient, type ConnectedClient } from '../temporal-client.js';

const SUBCOMMANDS = `
  create NAME --policy FILE (--every 24h | --cron EXPR)   a schedule that runs the policy
  list                                                     every schedule, with its next run
  describe NAME                                            its policy, spec, next runs and recent runs
  pause NAME [--note TEXT] / unpause NAME                  stop and resume its runs
  trigger NAME                                             one run now (skipped if one is still running)
  delete NAME                                              remove the schedule (runs already started go on)`;

const spec = commandSpec({
  usage: 'schedule create|list|describe|pause|unpause|trigger|delete [NAME] [options]',
  description: `
Recurring clean-up with Temporal Schedules. A policy file (JSON) selects what each run deletes: a
manifest (a plan file path or URL, read afresh at every run) or the TwelveLabs assets whose
user_metadata holds a past date in a named field. Each run selects, then runs the bulk delete as a child
workflow (findable in the Web UI by its plan name). Overlapping runs are skipped.
${SUBCOMMANDS}`,
  options: {
    policy: { type: 'string' },
    every: { type: 'string' },
    cron: { type: 'string' },
    note: { type: 'string' },
    paused: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    policy: 'create: the clean-up policy file (JSON, see docs/policy-format.md)',
    every:
      "create: run at this interval, e.g. 30m, 6h, 24h, 7d, counted from the Unix epoch as Temporal's intervals are (24h: at 00:00 UTC; 7d: on Thursdays); --cron for another time",
    cron: 'create: run at these times, a cron expression, e.g. "0 3 * * *" (UTC)',
    note: 'create, pause: a note shown with the schedule',
    paused: 'create: create it paused',
    json: 'print JSON on stdout',
  },
  valueNames: { policy: 'FILE', every: 'INTERVAL', cron: 'EXPR', note: 'TEXT' },
  positionals: ['SUBCOMMAND', 'NAME'],
  optionalPositionals: 1,
});

/** The options each subcommand takes; any other is refused (exit 2) rather than silently ignored. */
const SUBCOMMAND_OPTIONS: Record<string, ReadonlyArray<keyof typeof spec.options>> = {
  create: ['policy', 'every', 'cron', 'note', 'paused', 'json'],
  list: ['json'],
  describe: ['json'],
  pause: ['note', 'json'],
  unpause: ['note', 'json'],
  trigger: ['json'],
  delete: ['json'],
};

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

function nameOf(positionals: string[], sub: string): string {
  const name = positionals[1];
  if (!name) throw new CliError(`missing NAME\nusage: bulk-delete schedule ${sub} NAME`);
  if (!NAME_PATTERN.test(name)) {
    throw new CliError(
      `schedule name "${name}" must be 1 to 100 characters of letters, digits, "_", "." or "-"`,
    );
  }
  return name;
}

/** `24h`, `30m`, `7d`, `90s`: what Temporal's interval takes. @throws CliError naming --every. */
export function intervalOf(raw: string): string {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim());
  const seconds = match
    ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd']
    : 0;
  if (!match || seconds < 1) {
    throw new CliError(`--every must be a number and a unit (s, m, h or d), e.g. 24h or 30m, got "${raw}"`);
  }
  // Further apart, a schedule would never run in practice, yet list and describe it as if it would.
  if (seconds > MAX_DURATION_DAYS * 86_400) {
    throw new CliError(`--every must be at most ${MAX_DURATION_DAYS}d, got "${raw}"`);
  }
  return `${match[1]}${match[2]}`;
}

/**
 * Reads and validates a policy file; a relative manifest path is made absolute (relative to the policy
 * file) so that every run reads the same file, and a manifest that exists is checked now.
 * @throws CliError (exit 2) naming the file, line and field.
 */
export function readPolicyFile(file: string, io: Io): CleanupPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: cannot read the policy: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  const parsed = parseJsonDocument(text, CleanupPolicy, { source: file });
  if (!parsed.ok) {
    throw new CliError(
      `${parsed.issues.map(formatIssue).join('\n')}\nno schedule was created: fix the policy`,
    );
  }
  const policy = parsed.value;
  const manifest = policy.select.manifest;
  // A run reads a path, a file: URL or an http(s) URL (activities/policy-activities.ts): any other would
  // fail every run.
  if (manifest !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(manifest) && !/^(https?|file):/i.test(manifest)) {
    throw new CliError(
      `${file}: select.manifest: must be a plan file path or an http(s) URL (got ${JSON.stringify(manifest)})\nno schedule was created: fix the policy`,
    );
  }
  if (manifest !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(manifest)) {
    const absolute = isAbsolute(manifest) ? manifest : resolve(dirname(resolve(file)), manifest);
    policy.select.manifest = absolute;
    // Its name, whether it exists yet or not: each run reads it as the format its extension says.
    const format = planFormatOf(absolute);
    if (!format) throw new CliError(`${file}: select.manifest: must name a .json or .csv plan file`);
    if (!existsSync(absolute)) {
      io.err(`note: the manifest ${absolute} does not exist yet: runs fail until it does`);
    } else {
      const checked = parsePlanText(readFileSync(absolute, 'utf8'), {
        source: manifest,
        format,
        ...(format === 'csv' ? { name: policy.name } : {}),
      });
      if (!checked.ok) {
        throw new CliError(
          `${checked.issues.map(formatIssue).join('\n')}\nno schedule was created: the manifest is not a valid plan`,
        );
      }
      // Each run refuses a manifest over maxItems (and deletes nothing): as it stands, every run would fail.
      if (checked.value.items.length > policy.maxItems) {
        throw new CliError(
          `${file}: maxItems: the manifest ${manifest} lists ${checked.value.items.length} items, more than ` +
            `maxItems (${policy.maxItems}): every run would fail; no schedule was created`,
        );
      }
    }
  }
  return policy;
}

async function scheduleHandle(client: Client, name: string) {
  const handle = client.schedule.getHandle(name);
  try {
    return { handle, description: await handle.describe() };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new CliError(`no schedule "${name}"`);
    throw error;
  }
}

/** When a schedule runs, as it was created (the server keeps a cron expression as calendars). */
function specText(description: ScheduleDescription): string {
  if (typeof description.memo?.when === 'string') return description.memo.when;
  const parts = [
    ...(description.spec.intervals ?? []).map((i) => `every ${formatDuration(Number(i.every))}`),
    ...(description.spec.calendars ?? []).map((c) => `calendar ${JSON.stringify(c)}`),
  ];
  return parts.join(', ') || '(no times)';
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function policyOf(description: ScheduleDescription): CleanupPolicy | undefined {
  const args = description.action.type === 'startWorkflow' ? description.action.args : undefined;
  const first = (args as Array<{ policy?: unknown }> | undefined)?.[0];
  const parsed = CleanupPolicy.safeParse(first?.policy);
  return parsed.success ? parsed.data : undefined;
}

function selectText(policy: CleanupPolicy | undefined): string {
  if (!policy) return '(not a clean-up policy)';
  if (policy.select.manifest !== undefined) return `manifest ${policy.select.manifest}`;
  return `TwelveLabs assets whose user_metadata.${policy.select.twelvelabsMetadata?.field} is past`;
}

/** What `create` needs, checked before connecting: bad input never reaches the server. */
function createInput(
  values: Values,
  io: Io,
): { policy: CleanupPolicy; scheduleSpec: ScheduleSpec; when: string; file: string } {
  if (!values.policy) {
    throw new CliError(
      'missing --policy FILE\nusage: bulk-delete schedule create NAME --policy FILE (--every 24h | --cron EXPR)',
    );
  }
  if ((values.every === undefined) === (values.cron === undefined)) {
    throw new CliError('give exactly one of --every (e.g. 24h) or --cron (e.g. "0 3 * * *")');
  }
  const scheduleSpec: ScheduleSpec =
    values.every !== undefined
      ? { intervals: [{ every: intervalOf(values.every) }] }
      : { cronExpressions: [values.cron!] };
  const when = values.every !== undefined ? `every ${intervalOf(values.every)}` : `cron "${values.cron}"`;
  return { policy: readPolicyFile(values.policy, io), scheduleSpec, when, file: values.policy };
}

async function create(
  connected: ConnectedClient,
  name: string,
  input: ReturnType<typeof createInput>,
  values: Values,
  io: Io,
): Promise<number> {
  const { policy, scheduleSpec } = input;
  const { client, config } = connected;
  try {
    await client.schedule.create({
      scheduleId: name,
      spec: scheduleSpec,
      action: {
        type: 'startWorkflow',
        workflowType: scheduledCleanupWorkflow,
        args: [{ policy }],
        taskQueue: config.BULK_DELETE_TASK_QUEUE,
        workflowId: `cleanup-${name}`,
        staticSummary: `Clean-up ${policy.name}: ${selectText(policy)}`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: { policy: policy.name, when: input.when },
      state: {
        paused: values.paused ?? false,
        note: values.note ?? `policy ${policy.name} from ${input.file}`,
      },
    });
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) {
      throw new CliError(
        `a schedule "${name}" already exists: "bulk-delete schedule delete ${name}" first, or pick another name`,
      );
    }
    const message = (error as Error).message;
    // gRPC's INVALID_ARGUMENT (3): the server refused the spec, e.g. "Hour is not in range [0-23]".
    const invalid = (error as { cause?: { code?: unknown } }).cause?.code === 3;
    if (values.cron !== undefined && (invalid || /cron|spec|invalid|range/i.test(message))) {
      throw new CliError(`--cron "${values.cron}" was refused by Temporal: ${message}`);
    }
    throw error;
  }
  const { description } = await scheduleHandle(client, name);
  const next = description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString());
  if (values.json) {
    io.out(JSON.stringify({ schedule: name, policy, spec: specText(description), nextRuns: next }, null, 2));
  } else {
    io.out(`created schedule ${name}: ${specText(description)}, ${selectText(policy)}`);
    io.out(`next runs: ${next.join(', ') || '(none: paused)'}`);
    io.out(
      `Web UI: ${webUiBase(config)}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/schedules/${encodeURIComponent(name)}`,
    );
  }
  return EXIT.ok;
}

async function list(connected: ConnectedClient, values: Values, io: Io): Promise<number> {
  const rows: Array<{
    name: string;
    paused: boolean;
    next?: string;
    workflowType?: string;
    policy?: string;
  }> = [];
  for await (const summary of connected.client.schedule.list()) {
    rows.push({
      name: summary.scheduleId,
      paused: summary.state.paused,
      next: summary.info.nextActionTimes[0]?.toISOString(),
      workflowType: summary.action?.workflowType,
      policy: typeof summary.memo?.policy === 'string' ? summary.memo.policy : undefined,
    });
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : 1));
  if (values.json) {
    io.out(JSON.stringify({ schedules: rows }, null, 2));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    io.out('no schedules ("bulk-delete schedule create NAME --policy FILE --every 24h" makes one)');
    return EXIT.ok;
  }
  io.out(
    table(
      ['schedule', 'state', 'next run', 'policy'],
      rows.map((r) => [
        r.name,
        r.paused ? 'paused' : 'active',
        r.next ?? '-',
        r.policy ?? r.workflowType ?? '',
      ]),
    ).join('\n'),
  );
  return EXIT.ok;
}

async function describe(connected: ConnectedClient, name: string, values: Values, io: Io): Promise<number> {
  const { description } = await scheduleHandle(connected.client, name);
  const policy = policyOf(description);
  const next = description.info.nextActionTimes.map((d) => d.toISOString());
  const recent = description.info.recentActions.map((a) => ({
    scheduledAt: a.scheduledAt.toISOString(),
    workflowId: a.action.workflow.workflowId,
    bulkDeleteWorkflowId: `${a.action.workflow.workflowId}/bulk-delete`,
  }));
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          schedule: name,
          paused: description.state.paused,
          note: description.state.note,
          spec: specText(description),
          overlap: description.policies.overlap,
          policy,
          nextRuns: next,
          recentRuns: recent,
          runs: description.info.numActionsTaken,
          skippedOverlapping: description.info.numActionsSkippedOverlap,
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  io.out(
    `schedule ${name}: ${description.state.paused ? 'paused' : 'active'}${description.state.note ? ` (${description.state.note})` : ''}`,
  );
  io.out(
    `when: ${specText(description)}; overlapping runs: ${(description.policies.overlap ?? 'SKIP').toLowerCase()}`,
  );
  if (policy) {
    io.out(`policy ${policy.name}: ${selectText(policy)}; at most ${plural(policy.maxItems, 'item')} a run`);
    const mode = policy.dryRun ? 'dry run: discovers, deletes nothing' : 'deletes';
    io.out(`mode: ${mode}${policy.requireApproval ? ', after approval' : ''}`);
  }
  io.out(
    `runs so far: ${description.info.numActionsTaken} (${description.info.numActionsSkippedOverlap} skipped: overlapping)`,
  );
  io.out(`next runs:${next.length ? '' : ' (none)'}`);
  for (const time of next) io.out(`  ${time}`);
  if (recent.length) {
    io.out('recent runs:');
    for (const run of recent) io.out(`  ${run.scheduledAt}  ${run.workflowId}`);
  }
  return EXIT.ok;
}

/**
 * Triggers one run now and says which: the new run's workflow ID and its bulk delete's, or, when the
 * schedule skipped it because a run is still going (overlap SKIP), that run.
 */
async function trigger(handle: ScheduleHandle, name: string, values: Values, io: Io): Promise<number> {
  const described = await handle.describe();
  // Temporal runs a trigger whatever the pause: say so, since a pause is often an incident's.
  const { paused, note } = described.state;
  if (paused) io.err(`schedule ${name} is paused${note ? ` ("${note}")` : ''}: this run goes anyway`);
  const before = new Set(described.info.recentActions.map((a) => a.action.workflow.workflowId));
  // As for its own times: a run still going is not joined by another (the SDK's default would allow all).
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  let started: string | undefined;
  let running: string | undefined;
  for (let attempt = 0; attempt < 40 && !started; attempt++) {
    const { info } = await handle.describe();
    started = info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => !before.has(id));
    running = info.runningActions[0]?.workflow.workflowId;
    if (!started) await sleep(250);
  }
  if (values.json) {
    io.out(
      JSON.stringify({
        schedule: name,
        done: 'trigger',
        workflowId: started,
        bulkDeleteWorkflowId: started && `${started}/bulk-delete`,
        running,
      }),
    );
    return EXIT.ok;
  }
  if (!started) {
    io.out(
      `triggered schedule ${name}: no run started` +
        (running
          ? `: ${running} is still running (overlapping runs are skipped)`
          : ' yet; see "bulk-delete schedule describe"'),
    );
    return EXIT.ok;
  }
  io.out(`triggered schedule ${name}: started ${started}`);
  io.out(`  its bulk delete: ${started}/bulk-delete (once it has selected what to delete)`);
  io.out(`  follow it with: npx bulk-delete status ${started} --follow`);
  return EXIT.ok;
}

type Values = Parsed<typeof spec.options>['values'];

/** `bulk-delete schedule ...`: recurring clean-up with Temporal Schedules. */
export const scheduleCommand = defineCommand('schedule', spec, async (args, io) => {
  const { positionals, values } = args;
  const sub = positionals[0]!;
  const allowed = SUBCOMMAND_OPTIONS[sub];
  if (!allowed) throw new CliError(`unknown schedule command "${sub}"; one of:${SUBCOMMANDS}`);
  const stray = Object.keys(values).filter((option) => !allowed.includes(option as keyof typeof values));
  if (stray.length) {
    throw new CliError(
      `"schedule ${sub}" does not take ${stray.map((o) => `--${o}`).join(', ')}; ` +
        `it takes ${allowed.map((o) => `--${o}`).join(', ') || 'no options'}\nusage:${SUBCOMMANDS}`,
    );
  }
  if (sub === 'list') {
    if (positionals.length > 1)
      throw new CliError(`unexpected argument "${positionals[1]}"\nusage: bulk-delete schedule list`);
    return withClient(io.env, (connected) => list(connected, values, io));
  }
  const name = nameOf(positionals, sub);
  if (sub === 'create') {
    const input = createInput(values, io);
    return withClient(io.env, (connected) => create(connected, name, input, values, io));
  }
  return withClient(io.env, async (connected) => {
    if (sub === 'describe') return describe(connected, name, values, io);
    const { handle } = await scheduleHandle(connected.client, name);
    let said: string;
    switch (sub) {
      case 'pause':
        await handle.pause(values.note ?? 'paused with bulk-delete schedule pause');
        said = `paused schedule ${name}`;
        break;
      case 'unpause':
        await handle.unpause(values.note ?? 'unpaused with bulk-delete schedule unpause');
        said = `unpaused schedule ${name}`;
        break;
      case 'trigger':
        return trigger(handle, name, values, io);
      default:
        await handle.delete();
        said = `deleted schedule ${name} (runs already started go on)`;
    }
    io.out(values.json ? JSON.stringify({ schedule: name, done: sub }) : said);
    return EXIT.ok;
  });
});

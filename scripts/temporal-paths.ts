import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Temporal CLI release the project is pinned to (it embeds Temporal Server 1.29.1 and UI 2.42.1). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Where the project links the CLI: git-ignored, so a fresh clone has none. */
export const PROJECT_TEMPORAL = join(PROJECT_ROOT, '.temporal', 'bin', 'temporal');

/** The user's cache directory for the built CLI, kept across clones so that neither a clone nor CI rebuilds it. */
export function cachedTemporalPath(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'bulk-delete', `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

/** The oldest CLI and embedded Temporal Server accepted from PATH: the pinned release's. */
export const TEMPORAL_CLI_MINIMUM = TEMPORAL_CLI_VERSION;
export const TEMPORAL_SERVER_MINIMUM = '1.29.0';

/** What `temporal --version` says: `temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)`. */
export interface TemporalVersions {
  cli: string;
  server?: string;
}

/** The versions a `temporal` binary reports, or undefined when it cannot run. */
export function temporalVersionsOf(path: string): TemporalVersions | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    const cli = /version\s+(\S+)/.exec(out)?.[1];
    const server = /Server\s+([\d.]+)/.exec(out)?.[1];
    return cli ? { cli, ...(server ? { server } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** The version a `temporal` binary reports, or undefined when it cannot run. */
export function temporalVersionOf(path: string): string | undefined {
  return temporalVersionsOf(path)?.cli;
}

/** `a >= b` for dotted release numbers; a pre-release or dev build (`0.0.0-DEV`) is never recent enough. */
function atLeast(version: string, minimum: string): boolean {
  if (!/^\d+(\.\d+)*$/.test(version)) return false;
  const [a, b] = [version, minimum].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a!.length, b!.length); i++) {
    const diff = (a![i] ?? 0) - (b![i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

/**
 * Whether a CLI is recent enough for the project: CLI >= {@link TEMPORAL_CLI_MINIMUM} and, when it
 * says, embedded Server >= {@link TEMPORAL_SERVER_MINIMUM} (the search attributes, updates and
 * schedules the project uses).
 */
export function recentEnough(versions: TemporalVersions | undefined): boolean {
  if (!versions || !atLeast(versions.cli, TEMPORAL_CLI_MINIMUM)) return false;
  return versions.server === undefined || atLeast(versions.server, TEMPORAL_SERVER_MINIMUM);
}

export function temporalOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'temporal');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The `temporal` executable to run, or undefined: the project's link or one on PATH when recent enough
 * ({@link recentEnough}), else the pinned build in the user cache.
 */
export function locateTemporalCli(): string | undefined {
  for (const candidate of [PROJECT_TEMPORAL, temporalOnPath()]) {
    if (candidate && recentEnough(temporalVersionsOf(candidate))) return candidate;
  }
  const cached = cachedTemporalPath();
  return temporalVersionOf(cached) === TEMPORAL_CLI_VERSION ? cached : undefined;
}

/**
 * The `temporal` executable to run (see {@link locateTemporalCli}).
 * @throws when none is installed, with the command that installs it.
 */
export function findTemporalCli(): string {
  const found = locateTemporalCli();
  if (found) return found;
  throw new Error(
    `no Temporal CLI >= ${TEMPORAL_CLI_MINIMUM} found in .temporal/bin or on PATH, nor ${TEMPORAL_CLI_VERSION} in ${cachedTemporalPath()}: run "npm run temporal:install"`,
  );
}

/** The Temporal Server release of the production rehearsal: the one the pinned CLI embeds. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** Where the project links the server, its SQL tool and its schema/config files (`npm run temporal:install-server`). */
export const PROJECT_TEMPORAL_SERVER = join(PROJECT_ROOT, '.temporal', 'bin', 'temporal-server');
export const PROJECT_TEMPORAL_SQL_TOOL = join(PROJECT_ROOT, '.temporal', 'bin', 'temporal-sql-tool');
/** Links to the cached copy of the module's `schema/postgresql/v12` and `docker/config_template.yaml`. */
export const PROJECT_TEMPORAL_SERVER_FILES = join(PROJECT_ROOT, '.temporal', 'server');

/** The user-cache directory holding the server build, kept across clones like the CLI's. */
export function cachedTemporalServerDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'bulk-delete', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The version a server or SQL tool binary reports (`temporal version 1.29.1`), or undefined. */
export const serverVersionOf = temporalVersionOf;

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

/** The version a `temporal` binary reports, or undefined when it cannot run. */
export function temporalVersionOf(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    return /version\s+(\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
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
 * The `temporal` executable to run: the project's link, else one on PATH, else the user cache.
 * Only a binary of the pinned version is accepted.
 * @throws when none is installed, with the command that installs it.
 */
export function findTemporalCli(): string {
  for (const candidate of [PROJECT_TEMPORAL, temporalOnPath(), cachedTemporalPath()]) {
    if (candidate && temporalVersionOf(candidate) === TEMPORAL_CLI_VERSION) return candidate;
  }
  throw new Error(
    `no Temporal CLI ${TEMPORAL_CLI_VERSION} found in .temporal/bin, on PATH or in ${cachedTemporalPath()}: run "npm run temporal:install"`,
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

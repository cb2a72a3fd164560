/**
 * Installs Temporal Server 1.29.1 for the production rehearsal (`npm run test:cluster`) without downloading
 * any binary: `cmd/server` and `cmd/tools/sql` of `go.temporal.io/server@v1.29.1` are built from the Go
 * module proxy into the user cache, with the module's PostgreSQL schemas and its config template beside
 * them, then linked into .temporal/. Skips the build when the cache already holds them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  PROJECT_TEMPORAL_SERVER,
  PROJECT_TEMPORAL_SERVER_FILES,
  PROJECT_TEMPORAL_SQL_TOOL,
  TEMPORAL_SERVER_VERSION,
  cachedTemporalServerDir,
  serverVersionOf,
} from './temporal-paths.js';

const MODULE = `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`;
/** The binaries: what `go install` names them, and the names the project (and admin-tools) use. */
const BINARIES = [
  { pkg: 'cmd/server', built: 'server', name: 'temporal-server', link: PROJECT_TEMPORAL_SERVER },
  { pkg: 'cmd/tools/sql', built: 'sql', name: 'temporal-sql-tool', link: PROJECT_TEMPORAL_SQL_TOOL },
] as const;
/** Files of the module the rehearsal needs, copied so that cleaning the Go module cache does not break it. */
const FILES = ['schema/postgresql/v12', 'docker/config_template.yaml'] as const;

function go(): string {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return 'go';
  } catch {
    if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
    throw new Error('no Go toolchain: install Go (https://go.dev/dl) or put it on PATH');
  }
}

function cacheIsComplete(dir: string): boolean {
  return (
    BINARIES.every((b) => serverVersionOf(join(dir, b.name)) === TEMPORAL_SERVER_VERSION) &&
    FILES.every((f) => existsSync(join(dir, f)))
  );
}

function build(dir: string): void {
  const gobin = mkdtempSync(join(tmpdir(), 'temporal-server-build-'));
  const env = { ...process.env, GOBIN: gobin, GOFLAGS: '-buildvcs=false' };
  try {
    execFileSync(
      go(),
      ['install', ...BINARIES.map((b) => `go.temporal.io/server/${b.pkg}@v${TEMPORAL_SERVER_VERSION}`)],
      {
        stdio: 'inherit',
        env,
      },
    );
    const moduleDir = (
      JSON.parse(execFileSync(go(), ['mod', 'download', '-json', MODULE], { encoding: 'utf8', env })) as {
        Dir: string;
      }
    ).Dir;
    mkdirSync(dir, { recursive: true });
    for (const b of BINARIES) renameSync(join(gobin, b.built), join(dir, b.name));
    for (const f of FILES) {
      rmSync(join(dir, f), { recursive: true, force: true });
      cpSync(join(moduleDir, f), join(dir, f), { recursive: true });
    }
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true, recursive: true });
  symlinkSync(target, path);
}

function main(): void {
  const dir = cachedTemporalServerDir();
  if (cacheIsComplete(dir)) {
    console.log(`found Temporal Server ${TEMPORAL_SERVER_VERSION} in the cache ${dir}`);
  } else {
    console.log(
      `building Temporal Server ${TEMPORAL_SERVER_VERSION} (server, SQL tool) from the Go module proxy into ${dir} ...`,
    );
    const started = Date.now();
    try {
      build(dir);
    } catch (error) {
      console.error(`building Temporal Server failed: ${(error as Error).message}`);
      process.exit(1);
    }
    if (!cacheIsComplete(dir)) {
      console.error(
        `the build in ${dir} is incomplete or reports another version than ${TEMPORAL_SERVER_VERSION}`,
      );
      process.exit(1);
    }
    console.log(
      `built Temporal Server ${TEMPORAL_SERVER_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }
  for (const b of BINARIES) link(join(dir, b.name), b.link);
  link(dir, PROJECT_TEMPORAL_SERVER_FILES);
  console.log(
    `linked .temporal/bin/temporal-server, .temporal/bin/temporal-sql-tool and .temporal/server to ${dir}`,
  );
}

main();

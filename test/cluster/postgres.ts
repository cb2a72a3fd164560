/** A throw-away PostgreSQL 15 (Debian's binaries) in a data directory of its own, on a free port. */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';

export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The data directory's server log, for failure messages. */
  log(): string;
  stop(): void;
}

/** PostgreSQL refuses to run as root: then its tools run as the `postgres` user. */
function asPostgres(tool: string, args: string[]): string {
  const path = join(POSTGRES_BIN, tool);
  if (process.getuid?.() !== 0) return execFileSync(path, args, { encoding: 'utf8' });
  return execFileSync('runuser', ['-u', 'postgres', '--', path, ...args], { encoding: 'utf8' });
}

/**
 * Starts PostgreSQL 15 in a new temp dir on 127.0.0.1 with a password-protected superuser (scram), as
 * the Temporal server and its SQL tool would meet it in production. Stop it in `after`.
 */
export async function startPostgres(): Promise<TestPostgres> {
  if (!existsSync(join(POSTGRES_BIN, 'initdb'))) {
    throw new Error(`no PostgreSQL in ${POSTGRES_BIN} (apt-get install postgresql-15, or set POSTGRES_BIN)`);
  }
  const root = mkdtempSync(join(tmpdir(), 'bulk-delete-pg-'));
  const data = join(root, 'data');
  const socketDir = join(root, 'socket');
  mkdirSync(socketDir);
  const user = 'temporal';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`);
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    for (const path of [root, socketDir, pwfile]) chownSync(path, uid, gid);
  }
  asPostgres('initdb', ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8']);
  const port = await freePort();
  const logFile = join(root, 'postgres.log');
  asPostgres('pg_ctl', [
    '-D',
    data,
    '-l',
    logFile,
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -h 127.0.0.1 -k ${socketDir} -c max_connections=200 -c fsync=off`,
    'start',
  ]);
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

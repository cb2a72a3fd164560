import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** A `.env` that cannot be read: named, with why, for a one-line error (no stack). */
export class EnvFileError extends Error {
  override readonly name = 'EnvFileError';
}

/**
 * Loads `.env` from the working directory into `process.env` when the file exists (`BULK_DELETE_ENV_FILE`
 * names another file, `none` turns this off). Variables already set in the environment win: a `.env` never overrides what the
 * shell or the container says. Answers the file loaded, if any.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (env.BULK_DELETE_ENV_FILE === 'none') return undefined;
  const file = resolve(cwd, env.BULK_DELETE_ENV_FILE || '.env');
  const named = env.BULK_DELETE_ENV_FILE ? 'BULK_DELETE_ENV_FILE' : '.env';
  if (!existsSync(file)) {
    if (env.BULK_DELETE_ENV_FILE) throw new EnvFileError(`BULK_DELETE_ENV_FILE: no such file ${file}`);
    return undefined;
  }
  if (!statSync(file).isFile()) throw new EnvFileError(`${named}: ${file} is not a file`);
  try {
    // Node's own parser (20.12+): the same syntax as docker compose's env_file.
    process.loadEnvFile(file);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new EnvFileError(`${named}: cannot read ${file} (${why})`);
  }
  return file;
}

/**
 * For a zod `preprocess` of an environment variable: `.env` files written from .env.example carry
 * `NAME=` for a value left unset, so an empty (or blank) string means unset.
 */
export const emptyIsUnset = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

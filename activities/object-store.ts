/**
 * Where plans and reports are kept outside Temporal: a local directory (or `file://` URL) or an
 * S3-compatible bucket (`s3://bucket/prefix`). The AWS SDK loads only when an `s3://` location is used.
 *
 * S3 settings come from the standard AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`, `AWS_REGION`, profiles...) plus `BULK_DELETE_S3_ENDPOINT` for an S3-compatible
 * server (MinIO, Ceph...), which is then addressed path-style.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';

/** A place that holds objects by key. */
export interface ObjectStore {
  /** Where the store is, as configured (`/dir` or `s3://bucket/prefix`). */
  location: string;
  /** Writes `key` and answers its URI (`file:///...` or `s3://bucket/prefix/key`). */
  put(key: string, body: string | Uint8Array): Promise<string>;
  /** Reads `key`; undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
}

/** An `s3://bucket/key` split into its parts. @throws Error naming the URI when it has no bucket. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new Error(`${uri} is not an s3://bucket/key URI`);
  return { bucket: match[1], key: match[2] ?? '' };
}

const clients = new Map<string, Promise<S3Client>>();

/** How long an S3 call may take to connect, and then stay silent, before it fails. */
export const S3_CONNECT_TIMEOUT_MS = 10_000;
export const S3_IDLE_TIMEOUT_MS = 30_000;

/** One S3 client per endpoint and region, built from the environment. */
export function s3ClientFor(env: NodeJS.ProcessEnv = process.env): Promise<S3Client> {
  const endpoint = env.BULK_DELETE_S3_ENDPOINT?.trim() || undefined;
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const cacheKey = `${endpoint ?? ''}|${region}|${env.AWS_ACCESS_KEY_ID ?? ''}`;
  let client = clients.get(cacheKey);
  if (!client) {
    // The SDK is pinned (package.json): its notice about future versions needing Node 22 is noise on
    // every command; say it once in docs/operations.md instead.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
    const sessionToken = env.AWS_SESSION_TOKEN?.trim();
    client = import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          region,
          ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
          // Keys given in `env` are used as they are; otherwise the SDK's own chain (profiles, roles...).
          ...(accessKeyId && secretAccessKey
            ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
            : {}),
          // One retry here: Temporal retries the activity.
          maxAttempts: 2,
          // Without these a store that accepts the connection and never answers holds a call for ever:
          // `report` of a run gone from Temporal hung, and a run waited on its archive to its timeout.
          // The socket timeout counts silence, not the whole transfer: a large plan still downloads.
          requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, socketTimeout: S3_IDLE_TIMEOUT_MS },
        }),
    );
    clients.set(cacheKey, client);
  }
  return client;
}

type S3Error = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };

/** No such object. A missing bucket answers 404 too, but it is a store that is wrong, not an object. */
function isNotFound(error: unknown): boolean {
  const e = error as S3Error;
  if (e.name === 'NoSuchBucket') return false;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** A store that could not be read or written (unavailable, refusing, silent): its message names the object. */
export class StoreError extends Error {}

/**
 * An S3 call's failure said with the object it was about: the SDK's own messages name neither the
 * bucket nor the key ("Please reduce your request rate.", "The specified bucket does not exist").
 */
export function s3Failure(action: 'read' | 'write', uri: string, error: unknown): Error {
  const e = error as S3Error;
  const status = e.$metadata?.httpStatusCode;
  let why: string;
  if (e.name === 'TimeoutError') why = `no answer from the store (${e.message ?? 'timed out'})`;
  else if (e.name === 'NoSuchBucket') why = `the bucket ${parseS3Uri(uri).bucket} does not exist`;
  else why = `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(error)}`;
  return new StoreError(`cannot ${action} ${uri}: ${why}${status ? ` (HTTP ${status})` : ''}`, {
    cause: error,
  });
}

/** Reads an `s3://bucket/key` object; undefined when it does not exist. */
export async function getS3Object(
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Buffer | undefined> {
  const { bucket, key } = parseS3Uri(uri);
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3ClientFor(env);
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw s3Failure('read', uri, error);
  }
}

/**
 * An `s3://bucket/key` object's bytes as they arrive, without holding them all (a plan of 1,000,000 items is
 * ~170 MB); undefined when it does not exist. A failure on the way is said as `getS3Object` says it.
 */
export async function streamS3Object(
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AsyncIterable<Uint8Array> | undefined> {
  const { bucket, key } = parseS3Uri(uri);
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3ClientFor(env);
  let body: AsyncIterable<Uint8Array>;
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = answer.Body as AsyncIterable<Uint8Array>;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw s3Failure('read', uri, error);
  }
  return (async function* () {
    try {
      yield* body;
    } catch (error) {
      throw s3Failure('read', uri, error);
    }
  })();
}

/**
 * What is wrong with a store location, or undefined when it is one: `s3://bucket[/prefix]`, `file:///dir`
 * or a directory path. A location with another scheme (a mistyped `s3:/bucket`, `gs://…`, `https://…`)
 * would otherwise be taken for a directory of that name.
 */
export function storeLocationProblem(location: string): string | undefined {
  const trimmed = location.trim();
  if (!trimmed) return 'is empty';
  if (trimmed.startsWith('s3://')) {
    return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(trimmed)
      ? undefined
      : `"${trimmed}" does not name an S3 bucket: s3://bucket or s3://bucket/prefix`;
  }
  if (trimmed.startsWith('file:')) {
    return trimmed.startsWith('file:///') ? undefined : `"${trimmed}" is not a file URL: file:///dir`;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) {
    return `"${trimmed}" is not a store location: s3://bucket/prefix, file:///dir or a directory path`;
  }
  return undefined;
}

/**
 * The store at `location`: `s3://bucket/prefix`, `file:///dir` or a directory path (created on the first
 * write). @throws Error when the location is not one (`storeLocationProblem`).
 */
export function openObjectStore(location: string, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const trimmed = location.trim();
  const problem = storeLocationProblem(trimmed);
  if (problem) throw new Error(`the store location ${problem}`);
  if (trimmed.startsWith('s3://')) {
    const { bucket, key: rawPrefix } = parseS3Uri(trimmed);
    const prefix = rawPrefix.replace(/\/+$/, '');
    const keyOf = (key: string): string => (prefix ? `${prefix}/${key}` : key);
    return {
      location: trimmed,
      async put(key, body) {
        const { PutObjectCommand } = await import('@aws-sdk/client-s3');
        const s3 = await s3ClientFor(env);
        const uri = `s3://${bucket}/${keyOf(key)}`;
        try {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(key), Body: body }));
        } catch (error) {
          throw s3Failure('write', uri, error);
        }
        return uri;
      },
      get: (key) => getS3Object(`s3://${bucket}/${keyOf(key)}`, env),
    };
  }
  const dir = trimmed.startsWith('file:') ? fileURLToPath(trimmed) : resolve(trimmed);
  const pathOf = (key: string): string => {
    // A workflow ID may be any string: it must not climb out of the store.
    if (key.split('/').some((part) => part === '..' || part === '')) {
      throw new Error(`store key "${key}" has an empty or ".." segment`);
    }
    return join(dir, key);
  };
  return {
    location: trimmed,
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Written aside, then renamed: a reader never sees half a file.
      const partial = `${path}.${process.pid}.partial`;
      await writeFile(partial, body);
      await rename(partial, path);
      return pathToFileURL(path).href;
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/**
 * A real S3-compatible server for the tests (s3rver: the S3 REST API over HTTP, objects on disk), on
 * 127.0.0.1 with a port of its own, and the environment that points our S3 client at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** The variables our S3 client reads: endpoint, region and s3rver's fixed keys. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestS3(bucket = 'bulk-delete-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'bulk-delete-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      BULK_DELETE_S3_ENDPOINT: endpoint,
      AWS_REGION: 'us-east-1',
      // s3rver accepts these fixed keys and checks request signatures with them.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

import { readFile } from 'node:fs/promises';
import type { TemporalConfig } from './config.js';

/** Connection settings that both `Connection.connect` (client) and `NativeConnection.connect` (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: boolean | { clientCertPair: { crt: Buffer; key: Buffer } };
}

/** Plain for a local server; TLS with an API key (Temporal Cloud) or a client certificate (mTLS). */
export async function connectionOptions(config: TemporalConfig): Promise<TemporalConnectionOptions> {
  const options: TemporalConnectionOptions = { address: config.TEMPORAL_ADDRESS };
  if (config.TEMPORAL_API_KEY) {
    options.apiKey = config.TEMPORAL_API_KEY;
    options.tls = true;
  }
  if (config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY) {
    options.tls = {
      clientCertPair: {
        crt: await readFile(config.TEMPORAL_TLS_CERT),
        key: await readFile(config.TEMPORAL_TLS_KEY),
      },
    };
  } else if (config.TEMPORAL_TLS === 'true') {
    options.tls = true;
  }
  return options;
}

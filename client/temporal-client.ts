import { Client, Connection } from '@temporalio/client';
import { dataConverter } from '../config/payload-codec.js';
import { loadTemporalConfig, unreachable, type TemporalConfig } from '../config/temporal-config.js';
import { CliError } from './command.js';

/** A connected client and the settings it was made from. */
export interface ConnectedClient {
  client: Client;
  config: TemporalConfig;
  close(): Promise<void>;
}

/** The Temporal settings from the environment. @throws CliError (exit 2) naming every bad variable. */
export function temporalConfigFrom(env: NodeJS.ProcessEnv): TemporalConfig {
  try {
    return loadTemporalConfig(env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/**
 * Connects to Temporal as the environment says (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS / API key, TEMPORAL_PROFILE).
 * @throws CliError (exit 2) when the settings are bad or the server does not answer.
 */
export async function connectClient(env: NodeJS.ProcessEnv): Promise<ConnectedClient> {
  const config = temporalConfigFrom(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.connection, connectTimeout: 5000 });
  } catch (error) {
    throw new CliError(unreachable(config.TEMPORAL_ADDRESS, error, Boolean(config.connection.tls)).message);
  }
  return {
    client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
    config,
    close: () => connection.close(),
  };
}

/** Runs `fn` with a connected client and closes the connection afterwards. */
export async function withClient<T>(
  env: NodeJS.ProcessEnv,
  fn: (connected: ConnectedClient) => Promise<T>,
): Promise<T> {
  const connected = await connectClient(env);
  try {
    return await fn(connected);
  } finally {
    await connected.close();
  }
}

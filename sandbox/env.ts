import { BASE_PATHS } from './vendor.js';

/** The worker's environment variables that point the connectors at a sandbox. */
export interface SandboxEnv {
  TWELVELABS_BASE_URL: string;
  TWELVELABS_API_KEY: string;
  UPLYNK_BASE_URL: string;
  UPLYNK_OWNER_ID: string;
  UPLYNK_API_KEY: string;
  ENTERMEDIA_BASE_URL: string;
  ENTERMEDIA_KEY: string;
}

/** The credentials part of a sandbox state: all `sandboxEnv` needs. */
export interface SandboxCredentials {
  twelvelabs: { apiKey: string };
  uplynk: { ownerId: string; apiKey: string };
  entermedia: { key: string };
}

/**
 * The environment for the worker (or any connector) to use the sandbox at `url` with the credentials
 * of `state`.
 * @example sandboxEnv('http://127.0.0.1:8790', state).TWELVELABS_BASE_URL // 'http://127.0.0.1:8790/twelvelabs/v1.3'
 */
export function sandboxEnv(url: string, state: SandboxCredentials): SandboxEnv {
  const root = url.replace(/\/+$/, '');
  return {
    TWELVELABS_BASE_URL: root + BASE_PATHS.twelvelabs,
    TWELVELABS_API_KEY: state.twelvelabs.apiKey,
    UPLYNK_BASE_URL: root + BASE_PATHS.uplynk,
    UPLYNK_OWNER_ID: state.uplynk.ownerId,
    UPLYNK_API_KEY: state.uplynk.apiKey,
    ENTERMEDIA_BASE_URL: root + BASE_PATHS.entermedia,
    ENTERMEDIA_KEY: state.entermedia.key,
  };
}

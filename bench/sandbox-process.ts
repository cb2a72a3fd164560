/** The sandbox in a process of its own, as the benchmarks run it, and its `/_sandbox` controls. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../scripts/temporal-paths.js';

/** Starts `bulk-delete sandbox` on a free port; answers its URL and how to stop it. */
export async function startSandboxProcess(): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '--eval',
      "const m = await import('./sandbox/main.ts'); process.exitCode = await m.runSandboxCommand(['--port', '0']);",
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

/** One `/_sandbox` control call: GET without a body, POST with one. */
export async function control<T>(url: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_sandbox${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The admin REST API from the page: bearer auth, JSON in/out (responses parsed with zod), readable errors. */
import { z } from 'zod';
import { formatIssues } from '../../../shared/protocol/issues';

const STORAGE_KEY = 'fedssl.adminToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(STORAGE_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(STORAGE_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(STORAGE_KEY);
  },
};

/** Called on any 401 so the console can drop back to the sign-in screen. */
let onUnauthorized: (message: string) => void = () => undefined;
export function setUnauthorizedHandler(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

const ErrorBodySchema = z.object({ error: z.string() });

async function send(method: string, path: string, body?: unknown, token = session.token): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = ErrorBodySchema.safeParse(await res.json());
      if (body.success) message = body.data.error;
    } catch {
      // not JSON
    }
    if (res.status === 401) onUnauthorized(message);
    throw new ApiError(res.status, message);
  }
  return res;
}

/** A request whose JSON response must match `schema`; a mismatch is an error naming the route and the fields. */
export async function api<S extends z.ZodType>(
  method: string,
  path: string,
  schema: S,
  body?: unknown,
): Promise<z.output<S>> {
  const parsed = schema.safeParse(await (await send(method, path, body)).json());
  if (!parsed.success)
    throw new Error(`unexpected response from ${method} ${path}: ${formatIssues(parsed.error, { root: 'response' })}`);
  return parsed.data;
}

/** A request whose response body the console does not need. */
export async function apiSend(method: string, path: string, body?: unknown): Promise<void> {
  await send(method, path, body);
}

// The tfjs layers manifest is saved as received, so unknown fields pass through.
const ModelJsonSchema = z.looseObject({ weightsManifest: z.array(z.looseObject({ paths: z.array(z.string()) })) });

/** Checks a token before storing it (no side effects: a read-only route). */
export async function verifyAdminToken(token: string): Promise<void> {
  await send('GET', '/api/admin/status', undefined, token);
}

/** Downloads need the bearer header, so fetch + blob + a temporary link. */
export async function downloadVersion(version: number): Promise<void> {
  const base = `/api/admin/models/${version}`;
  const weightsName = `fedssl-v${version}-encoder.weights.bin`;
  const json = await api('GET', `${base}/model.json`, ModelJsonSchema);
  // Point the manifest at the downloaded weights file so the pair loads with tf.io.browserFiles.
  for (const group of json.weightsManifest) group.paths = [weightsName];
  saveBlob(new Blob([JSON.stringify(json)], { type: 'application/json' }), `fedssl-v${version}-encoder.model.json`);
  saveBlob(await (await send('GET', `${base}/weights.bin`)).blob(), weightsName);
}

function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

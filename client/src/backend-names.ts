/** Backend names and parsing, kept apart from tfjs so the page bundle stays small. */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function parseBackendName(value: string | null | undefined): BackendName | undefined {
  if (!value) return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`unknown backend "${value}": use one of ${BACKEND_NAMES.join(', ')}`);
}

import type { z } from 'zod';

export interface IssueFormat {
  /** Name used when an issue concerns the whole value rather than a field. */
  root?: string;
  /** Report at most this many issues (a hostile payload can produce thousands). */
  max?: number;
  separator?: string;
}

/** One readable line per zod issue, `path: message`, for acks, HTTP 400s, logs and the console. */
export function formatIssues(
  error: z.ZodError,
  { root = 'message', max = 5, separator = '; ' }: IssueFormat = {},
): string {
  const shown = error.issues.slice(0, max).map((i) => `${i.path.join('.') || root}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return shown.join(separator) + (more > 0 ? `${separator}(+${more} more)` : '');
}

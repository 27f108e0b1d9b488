import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues } from './issues';

describe('formatIssues', () => {
  const Schema = z.strictObject({ a: z.number(), b: z.object({ c: z.string() }) });

  it('names each field by its path and the value itself by the root name', () => {
    const r = Schema.safeParse({ a: 'x', b: { c: 1 } });
    expect(formatIssues(r.error!)).toMatch(/^a: .+; b\.c: .+$/);
    expect(formatIssues(z.number().safeParse('x').error!, { root: 'body' })).toMatch(/^body: /);
  });

  it('caps the number of issues reported and says how many were left out', () => {
    const r = z.array(z.number()).safeParse(Array.from({ length: 12 }, () => 'x'));
    const text = formatIssues(r.error!, { max: 3, separator: '\n' });
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toMatch(/\(\+9 more\)$/);
  });
});

/**
 * Bytes of a message on the wire, dominated by its binary attachments. Iterative and capped
 * at 100k nodes, so a hostile, deeply nested message cannot overflow the stack here.
 */
export function approximateSize(raw: unknown): number {
  let n = 0;
  let visited = 0;
  const stack: unknown[] = [raw];
  while (stack.length && visited++ < 100_000) {
    const v = stack.pop();
    if (v === null || v === undefined) continue;
    if (v instanceof ArrayBuffer) n += v.byteLength;
    else if (ArrayBuffer.isView(v)) n += v.byteLength;
    else if (typeof v === 'string') n += v.length + 2;
    else if (typeof v !== 'object') n += 8;
    else {
      n += 2;
      for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
        n += 1;
        stack.push(x);
      }
    }
  }
  return n;
}

import { z } from 'zod';
import { toBytes } from './binary';

/** A binary attachment (Buffer in Node, ArrayBuffer in browsers), normalised to Uint8Array. */
export const BinarySchema = z
  .custom<Uint8Array>((v) => toBytes(v) !== undefined, {
    message: 'expected a binary attachment (ArrayBuffer/Uint8Array), not JSON numbers',
  })
  .transform((v) => toBytes(v)!);

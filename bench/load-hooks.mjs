// bench:load client workers: shared/secagg/keys.ts gets the OpenSSL-backed x25519 (load-x25519.ts).
// The replacement is resolved through the rest of the chain, so tsx still compiles it.
export async function resolve(specifier, context, next) {
  if (specifier === '@noble/curves/ed25519.js' && context.parentURL?.endsWith('/shared/secagg/keys.ts'))
    return next(new URL('./load-x25519.ts', import.meta.url).href, context);
  return next(specifier, context);
}

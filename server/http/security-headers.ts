import type { ServerResponse } from 'node:http';

/**
 * The admin console holds an admin token: a strict policy (same-origin scripts only, no
 * plugins, no framing). uPlot sets element styles, hence style-src 'unsafe-inline'.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The training app needs WASM compilation and blob workers (tfjs); it only forbids framing. */
export const APP_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

/** Security headers for every response: anti-framing everywhere, the strict CSP on /admin. */
export function setSecurityHeaders(res: ServerResponse, url: string | undefined): void {
  const path = (url ?? '/').split('?')[0]!;
  res.setHeader('Content-Security-Policy', path === '/admin' || path.startsWith('/admin/') ? CONSOLE_CSP : APP_CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

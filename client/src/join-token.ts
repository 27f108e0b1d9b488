/**
 * The join token rides in the URL fragment (`/#token=fj_…`): browsers never send fragments
 * to the server, so it stays out of access logs and Referer headers. A legacy `?token=` is
 * still accepted, but both forms are removed from the address bar at once (replaceState),
 * so the token does not stay in the history entry.
 */
export function takeJoinToken(href: string): { token?: string; cleanUrl?: string } {
  const url = new URL(href);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  const token = fragment.get('token') || url.searchParams.get('token') || undefined;
  if (!fragment.has('token') && !url.searchParams.has('token')) return {};
  fragment.delete('token');
  url.searchParams.delete('token');
  const rest = fragment.toString();
  url.hash = rest ? `#${rest}` : '';
  return { ...(token ? { token } : {}), cleanUrl: url.pathname + url.search + url.hash };
}

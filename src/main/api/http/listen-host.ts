// The host a listener binds for a client URL.

/** Go binds "localhost" to IPv4 loopback; so do we, whatever the resolver prefers. */
export function listenHost(url: string): string {
  const { hostname } = new URL(url);
  return hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, '');
}

// Peer URLs as etcd writes them (http://host:port; the transport speaks plain TCP on them),
// and member ids as etcd prints them.

export interface PeerAddress {
  /** The URL as configured, for logs. */
  url: string;
  host: string;
  port: number;
}

/** Parses an etcd-style peer URL; throws on anything that is not http://host:port. */
export function parsePeerUrl(url: string): PeerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid peer URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:') throw new Error(`unsupported peer URL ${JSON.stringify(url)}: only http:// (plain TCP)`);
  const port = Number(parsed.port);
  if (parsed.port === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`peer URL ${JSON.stringify(url)} needs an explicit port`);
  }
  // URL keeps the brackets of an IPv6 literal; net.connect and listen want it bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url, host, port };
}

/** Member and cluster ids in logs: lowercase hex, as etcd prints them. */
export const hex = (id: bigint): string => id.toString(16);

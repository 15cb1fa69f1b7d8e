// Which :authority values node:http2 accepts, and how a client's URL-shaped one is cut down.
//
// nghttp2 checks :authority (and Host) against the characters of an RFC 3986 authority without
// userinfo and resets the stream otherwise. grpc-go sends the dial target as it was given, so
// `etcdctl --endpoints=http://127.0.0.1:2379 endpoint status` sends `http://127.0.0.1:2379`,
// which Go's server (and so etcd) accepts.

const VALID = new Uint8Array(256);
for (const c of "!$%&'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~") VALID[c.charCodeAt(0)] = 1;

/** True if nghttp2 takes the value as :authority: non-empty, allowed characters only. */
export function isValidAuthority(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (VALID[value.charCodeAt(i)] !== 1) return false;
  return true;
}

/** True for an :authority or Host field that nghttp2 would refuse. */
export function isRefusedAuthority(name: string, value: string): boolean {
  return (name === ':authority' || name === 'host') && !isValidAuthority(value);
}

/** `http://user@host:port/path?q` → `host:port`: drops a scheme, userinfo, path, query and fragment. */
export function reduceAuthority(value: string): string {
  let s = value;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(s);
  if (scheme !== null) s = s.slice(scheme[0].length);
  const end = s.search(/[/?#]/);
  if (end >= 0) s = s.slice(0, end);
  return s.slice(s.lastIndexOf('@') + 1);
}

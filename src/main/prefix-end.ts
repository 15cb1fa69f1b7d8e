// etcd's GetPrefixRangeEnd, for the services built on prefixes (lock, election) and for clients.

/** The end of the range holding every key that starts with `prefix` ("\0", every key, when none can). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

// Versions a member reports. tsetcd speaks etcd's v3.4 API; clients see that as the server and
// cluster version (etcd reports the cluster version as major.minor.0).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file with tsetcd's package.json (src/ or dist/src/). */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();

export const TSETCD_VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
export const ETCD_API_VERSION = '3.4.0';
export const ETCD_CLUSTER_VERSION = '3.4.0';

#!/usr/bin/env node
// Run after any `npm install` that rewrites package-lock.json: node .ci/fix-lock.cjs package-lock.json
// Adds lock entries for msgpackr-extract's platform packages this registry does not serve,
// so `npm ci` sees the lock in sync; their os/cpu never match here, so npm never fetches them.
const fs = require("fs");
const file = process.argv[2];
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const platforms = { "darwin-arm64": ["darwin", "arm64"], "darwin-x64": ["darwin", "x64"], "linux-arm": ["linux", "arm"], "win32-x64": ["win32", "x64"] };
const version = lock.packages["node_modules/msgpackr-extract"].optionalDependencies["@msgpackr-extract/msgpackr-extract-linux-x64"];
for (const [name, [os, cpu]] of Object.entries(platforms)) {
  const key = `node_modules/@msgpackr-extract/msgpackr-extract-${name}`;
  if (!lock.packages[key]) lock.packages[key] = { version, cpu: [cpu], license: "MIT", optional: true, os: [os] };
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");

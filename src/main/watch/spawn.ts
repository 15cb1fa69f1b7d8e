// Starts a worker module of src/workers/ by name: the compiled .js next to the compiled code, or,
// when running from sources under tsx, the .ts (Node 20 does not carry tsx's loader hooks into worker
// threads, so the worker registers them itself first).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const EXTENSION = path.extname(fileURLToPath(import.meta.url));

export function spawnWorker(url: URL, workerData: unknown): Worker {
  if (EXTENSION !== '.ts') return new Worker(url, { workerData });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const code = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** A module of src/workers/ (or its compiled twin), by name. */
export function workerModule(name: string): URL {
  return new URL(`../../workers/${name}${EXTENSION}`, import.meta.url);
}

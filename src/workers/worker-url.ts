// Resolves a worker module next to this file (compiled .js under dist/).
export function workerUrl(name: string): URL {
  return new URL(`./${name}.js`, import.meta.url);
}

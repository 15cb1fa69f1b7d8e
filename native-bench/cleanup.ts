// Last-resort cleanup for the benchmark: whatever is registered here (server processes, etcdctl,
// temp dirs) is torn down synchronously when the harness exits for any reason, including Ctrl-C,
// SIGTERM and uncaught errors. Normal teardown unregisters first, so nothing runs twice.

type CleanupStep = () => void;

const steps = new Set<CleanupStep>();
let installed = false;

function runAll(): void {
  // Newest first: processes registered after their temp dir are killed before the dir goes.
  for (const step of [...steps].reverse()) {
    steps.delete(step);
    try {
      step();
    } catch {
      // Best effort: one failed step must not keep the others from running.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      runAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Registers a synchronous cleanup step; returns the function that unregisters it. */
export function onCleanup(step: CleanupStep): () => void {
  install();
  steps.add(step);
  return () => {
    steps.delete(step);
  };
}

// Child process of the crash test (mvcc-reopen.test.ts), run until it is killed: on the environment
// in argv[2], applies crash-turns.ts's turns from the one after the marker's, one per event-loop
// turn, and prints each turn's number once its writes are issued. Every tenth turn it also waits for
// committed() and prints "committed <n>", so the test knows a turn LMDB must hold.
import { MvccStore } from '../../src/storage/mvcc/index.js';
import { MARKER_DB, applyTurn } from './crash-turns.js';
import { nextTurn, openEnv } from './helpers.js';

const env = openEnv(process.argv[2]!);
const store = MvccStore.open(env);
const marker = env.openDB<number, string>({ name: MARKER_DB });
for (let n = (marker.get('turn') ?? 0) + 1; ; n++) {
  applyTurn(store, n);
  void marker.put('turn', n); // same event turn as the turn's store writes: same transaction
  process.stdout.write(`${n}\n`);
  if (n % 10 === 0) {
    await store.committed();
    process.stdout.write(`committed ${n}\n`);
  }
  await nextTurn();
}

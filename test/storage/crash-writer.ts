// Child process of the crash test (mvcc-reopen.test.ts), run until it is killed: on the environment
// in argv[2], applies crash-turns.ts's turns from the one after the marker's, one per event-loop
// turn, and prints each turn's number once its writes are issued. Every tenth turn it also waits for
// committed() and prints "committed <n>", so the test knows a turn LMDB must hold.
import { MvccStore } from '../../src/storage/mvcc/index.js';
import { applyTurn, markTurn, markedTurn } from './crash-turns.js';
import { nextTurn, openEnv } from './helpers.js';

const env = openEnv(process.argv[2]!);
const store = MvccStore.open(env);
for (let n = markedTurn(env) + 1; ; n++) {
  applyTurn(store, n);
  markTurn(env, n); // same event turn as the turn's store writes: same transaction
  process.stdout.write(`${n}\n`);
  if (n % 10 === 0) {
    await store.committed();
    process.stdout.write(`committed ${n}\n`);
  }
  await nextTurn();
}

// TSETCD_CPU_PROFILE=<file>: record a V8 CPU profile of the member's main thread from start to
// a clean shutdown (SIGTERM/SIGINT). For performance work; inert when the variable is unset.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';

export async function startCpuProfile(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (file === undefined || file === '') return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

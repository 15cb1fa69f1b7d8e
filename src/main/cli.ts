// bin/tsetcd: parse etcd's flags (and ETCD_* variables), start a member and its client API,
// stop cleanly on SIGTERM/SIGINT. Usage errors exit with code 2.
import { resolveConfig, type MemberConfig } from './config/config.js';
import { applyEnv, ConfigError, helpText, parseArgv } from './config/flags.js';
import { createLogger, type Logger } from './log.js';
import { startClientApi } from './api/client-api.js';
import { Member } from './server/member.js';
import { idHex } from './server/ids.js';
import { DataDirError } from '../storage/data-dir.js';
import { startCpuProfile } from './profiler.js';
import { ETCD_API_VERSION, TSETCD_VERSION } from './version.js';

function usageError(message: string): never {
  process.stderr.write(`tsetcd: ${message}\nSee 'tsetcd --help'.\n`);
  process.exit(2);
}

function parse(): { config: MemberConfig; unrecognizedEnv: string[] } | undefined {
  try {
    const argv = parseArgv(process.argv.slice(2));
    if (argv.help === 'true') {
      process.stdout.write(helpText());
      return undefined;
    }
    if (argv.version === 'true') {
      process.stdout.write(
        `tsetcd Version: ${TSETCD_VERSION}\netcd API Version: ${ETCD_API_VERSION}\nNode Version: ${process.version}\nOS/Arch: ${process.platform}/${process.arch}\n`,
      );
      return undefined;
    }
    const { flags, unrecognized } = applyEnv(argv, process.env);
    return { config: resolveConfig(flags), unrecognizedEnv: unrecognized };
  } catch (e) {
    if (e instanceof ConfigError) usageError(e.message);
    throw e;
  }
}

async function run(): Promise<void> {
  const parsed = parse();
  if (parsed === undefined) return;
  const { config, unrecognizedEnv } = parsed;
  const log: Logger = createLogger(config.logLevel, { name: config.name });
  for (const key of unrecognizedEnv) log.warn({ variable: key }, 'unrecognized environment variable');
  log.info({ version: TSETCD_VERSION, dataDir: config.dataDir, node: process.version }, 'starting tsetcd member');

  const stopProfile = await startCpuProfile(process.env.TSETCD_CPU_PROFILE);
  let member: Member;
  try {
    member = await Member.start(config, log);
  } catch (e) {
    if (e instanceof DataDirError) {
      log.fatal({ err: e.message }, 'cannot open data dir');
      process.stderr.write(`tsetcd: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const api = await startClientApi(member, config, log);
  await member.ready;
  log.info(
    { memberId: idHex(member.id), clusterId: idHex(member.clusterId), clientUrls: config.listenClientUrls },
    'ready to serve client requests',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'received signal; shutting down');
    void api
      .close()
      .then(() => member.close())
      .then(() => stopProfile?.())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** `tsetcd <subcommand> ...` runs a tool; anything else starts a member. */
async function main(): Promise<void> {
  if (process.argv[2] === 'bench') {
    const { runBench } = await import('./bench/cli.js');
    process.exitCode = await runBench(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === 'tune') {
    const { runTune } = await import('./tune/cli.js');
    process.exitCode = await runTune(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === 'fault-proxy') {
    const { runFaultProxy } = await import('./faults/cli.js');
    process.exitCode = await runFaultProxy(process.argv.slice(3));
    return;
  }
  await run();
}

main().catch((e: unknown) => {
  process.stderr.write(`tsetcd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

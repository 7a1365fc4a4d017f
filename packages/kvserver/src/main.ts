import { clusterAuthOrExit, exitWith, configOrExit, shutdownOnSignals, tlsOrExit, warnBudgetHook } from '@kvstore/cluster';
import pino from 'pino';
import { parseServerConfig } from './config';
import { StartupError, startServer } from './server';

async function main(): Promise<void> {
  const config = configOrExit('kvserver', () => parseServerConfig(process.argv.slice(2), process.env));
  const auth = clusterAuthOrExit('kvserver', config.clusterSecretFile);
  const logger = pino({ level: config.logLevel, base: { replica: config.id, partition: config.partition }, hooks: { logMethod: warnBudgetHook() } });
  const running = await startServer(config, auth, logger, tlsOrExit('kvserver', config.tls, logger));
  shutdownOnSignals(() => running.close(), logger, 'shutting down: handing over and leaving ZooKeeper');
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) exitWith('kvserver', error.message, error.exitCode);
  exitWith('kvserver', error instanceof Error ? error.message : String(error), 1);
});

import { clusterAuthOrExit, exitWith, configOrExit, shutdownOnSignals, tlsOrExit, warnBudgetHook } from '@kvstore/cluster';
import pino from 'pino';
import { parseGateConfig } from './config';
import { startGate } from './gate';

async function main(): Promise<void> {
  const config = configOrExit('kvgate', () => parseGateConfig(process.argv.slice(2), process.env));
  const auth = clusterAuthOrExit('kvgate', config.clusterSecretFile);
  const logger = pino({ name: 'kvgate', level: config.logLevel, hooks: { logMethod: warnBudgetHook() } });
  const gate = await startGate(config, auth, logger, tlsOrExit('kvgate', config.tls, logger));
  shutdownOnSignals(() => gate.close(), logger);
  gate.joined.catch((error: unknown) => void gate.close().finally(() => exitWith('kvgate', (error as Error).message, 1)));
}

main().catch((error: unknown) => exitWith('kvgate', error instanceof Error ? error.message : String(error), 1));

import { ClusterAuth, ClusterSecretError, ConfigError } from '@kvstore/cluster';
import pino from 'pino';
import { parseGateConfig, type GateConfig } from './config';
import { startGate } from './gate';

function readConfig(): GateConfig {
  try {
    return parseGateConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode === 0) process.stdout.write(error.message);
    else process.stderr.write(`kvgate: ${error.message}\n`);
    process.exit(error.exitCode);
  }
}

function readClusterAuth(config: GateConfig): ClusterAuth {
  try {
    return ClusterAuth.fromFile(config.clusterSecretFile);
  } catch (error) {
    if (!(error instanceof ClusterSecretError)) throw error;
    process.stderr.write(`kvgate: ${error.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const auth = readClusterAuth(config);
  const logger = pino({ name: 'kvgate' });
  const gate = await startGate(config, auth, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gate.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`kvgate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

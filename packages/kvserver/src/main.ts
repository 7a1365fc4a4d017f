import { ClusterAuth, ClusterSecretError } from '@kvstore/cluster';
import pino from 'pino';
import { ConfigError, parseServerConfig, type ServerConfig } from './config';
import { StartupError, startServer } from './server';

function fail(message: string, exitCode: number): never {
  process.stderr.write(`kvserver: ${message}\n`);
  process.exit(exitCode);
}

function readConfig(): ServerConfig {
  try {
    return parseServerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.exitCode !== 0) fail(error.message, error.exitCode);
    process.stdout.write(error.message);
    process.exit(0);
  }
}

function readClusterAuth(config: ServerConfig): ClusterAuth {
  try {
    return ClusterAuth.fromFile(config.clusterSecretFile);
  } catch (error) {
    if (error instanceof ClusterSecretError) fail(error.message, 2);
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const auth = readClusterAuth(config);
  const logger = pino({ level: config.logLevel, base: { replica: config.id, partition: config.partition } });
  const running = await startServer(config, auth, logger);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: handing over and leaving ZooKeeper');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) fail(error.message, error.exitCode);
  fail(error instanceof Error ? error.message : String(error), 1);
});

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where Debian's `zookeeper` package (libzookeeper-java and its dependencies) puts its jars. */
export const JAR_DIR = '/usr/share/java';

/**
 * The jars a standalone server needs, and no more: the server and its wire
 * format, the logging API plus the simple binding (it writes to stderr, which
 * goes to our log file), and the two libraries the server loads for metrics
 * and snapshots. Netty, Jetty and Jackson are only for features we turn off.
 */
const SERVER_JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-simple.jar', 'metrics-core.jar', 'snappy-java.jar'];

const NOT_ROOT_HINT =
  'ZooKeeper is not installed: run `sudo apt-get update && sudo apt-get install -y zookeeper` (Debian\'s package: ' +
  `${path.join(JAR_DIR, 'zookeeper.jar')} and Java), or run this as root to let it install it`;
const NO_APT_HINT =
  `ZooKeeper is not installed and apt-get is not available: install Debian's \`zookeeper\` package (3.8: jars in ${JAR_DIR}) and Java 17`;

export interface ZooKeeperInstallation {
  /** The java executable. */
  java: string;
  /** The explicit class path of SERVER_JARS. */
  classpath: string;
}

function missingJars(): string[] {
  return SERVER_JARS.filter((jar) => !fs.existsSync(path.join(JAR_DIR, jar)));
}

function hasJava(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

/** The installed ZooKeeper, or undefined when its jars or java are missing. */
export function findZooKeeper(): ZooKeeperInstallation | undefined {
  if (missingJars().length > 0 || !hasJava()) return undefined;
  return { java: 'java', classpath: SERVER_JARS.map((jar) => path.join(JAR_DIR, jar)).join(path.delimiter) };
}

function run(command: string, args: string[], log: (line: string) => void): void {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) throw new Error(`${command} failed to start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed with exit code ${result.status}`);
}

/**
 * Finds ZooKeeper, installing Debian's `zookeeper` package first when it is
 * absent and we are root (as in CI and containers). Anyone else gets one line
 * saying what to install: we never ask for a password.
 */
export async function ensureZooKeeperInstalled(log: (line: string) => void = console.log): Promise<ZooKeeperInstallation> {
  const found = findZooKeeper();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(NOT_ROOT_HINT);
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(NO_APT_HINT);
  }
  log('ZooKeeper is not installed; installing Debian\'s `zookeeper` package');
  run('apt-get', ['update'], log);
  run('apt-get', ['install', '-y', '--no-install-recommends', 'zookeeper'], log);
  const installed = findZooKeeper();
  if (!installed) {
    const missing = missingJars();
    throw new Error(`installed \`zookeeper\` but ${missing.length ? `${missing.join(', ')} are still missing` : 'java is not on PATH'}`);
  }
  return installed;
}

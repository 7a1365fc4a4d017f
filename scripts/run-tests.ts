import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, freePort, nodeTestArgs, startZooKeeper, type NodeTestSettings, type ZooKeeperHandle } from '@kvstore/testkit/harness';

/**
 * `npm test [-- filter ...]`: unit tests of every package, then the
 * integration tests, all against one ZooKeeper started here (tests keep apart
 * by cluster name). Prints "N passed, N failed" last and exits non-zero on
 * any failure.
 */

interface Suite extends NodeTestSettings {
  name: string;
  files: string[];
}

interface Tally {
  passed: number;
  failed: number;
}

function findTestFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .map((file) => path.join(dir, file));
}

function suites(filters: string[]): Suite[] {
  const packagesDir = path.join(REPO_ROOT, 'packages');
  const unit = [
    ...fs.readdirSync(packagesDir).flatMap((name) => findTestFiles(path.join(packagesDir, name, 'dist', 'test'))),
    // The chaos suite's checker is pure code with unit tests of its own.
    ...findTestFiles(path.join(REPO_ROOT, 'chaos', 'dist', 'test')),
    // So is the bench's arithmetic of rounds.
    ...findTestFiles(path.join(REPO_ROOT, 'bench', 'dist', 'test')),
  ];
  const integration = findTestFiles(path.join(REPO_ROOT, 'test', 'dist', 'integration'));
  const keep = (file: string): boolean => {
    const relative = path.relative(REPO_ROOT, file);
    return filters.length === 0 || filters.some((filter) => relative.includes(filter));
  };
  return [
    // Unit tests mostly wait on timers and sockets, so they overlap well even on
    // two cores (measured there: 2.8 s one at a time, 2.0 s two, 1.5 s four).
    { name: 'unit', files: unit.filter(keep).sort(), concurrency: 4, timeoutMs: 60_000 },
    // Integration tests start whole clusters: one at a time.
    { name: 'integration', files: integration.filter(keep).sort(), concurrency: 1, timeoutMs: 180_000 },
  ];
}

/** Runs one suite with `node --test`, passing its output through while reading the summary counts. */
function runSuite(suite: Suite, env: NodeJS.ProcessEnv, onStart: (child: ChildProcess) => void): Promise<Tally> {
  const args = nodeTestArgs({ ...suite, spec: process.stdout.isTTY }, suite.files);
  // Its own process group, so that an interrupted run can signal every test
  // process and every server they started at once (see main).
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  onStart(child);
  const tally: Tally = { passed: 0, failed: 0 };
  let pending = '';
  // The TAP reporter ends with "# pass N" and "# fail N"; spec with "ℹ pass N", in colour.
  const readLine = (line: string): void => {
    const match = /^(?:#|ℹ) (pass|fail) (\d+)$/.exec(line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
    if (match) tally[match[1] === 'pass' ? 'passed' : 'failed'] += Number(match[2]);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(readLine);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      readLine(pending);
      if (code !== 0 && tally.failed === 0) {
        // It failed without reporting a failed test (a crash or a file that
        // did not load): count it, so that the run cannot pass.
        console.error(`node --test for the ${suite.name} tests ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`);
        tally.failed += 1;
      }
      resolve(tally);
    });
  });
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-test-'));
  let zookeeper: ZooKeeperHandle | undefined;
  const cleanUp = async (): Promise<void> => {
    await zookeeper?.stop();
    if (process.env.KV_KEEP_TMP === '1') console.log(`kept ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  };
  let testRun: ChildProcess | undefined;
  let interrupted = false;
  // `on`, not `once`: a repeated signal must not meet the default action and
  // kill this process before it has stopped ZooKeeper.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      if (testRun?.pid !== undefined && testRun.exitCode === null) {
        try {
          process.kill(-testRun.pid, signal);
        } catch {
          // The group is already gone.
        }
      }
      void cleanUp().then(() => process.exit(128 + os.constants.signals[signal]));
    });
  }

  const total: Tally = { passed: 0, failed: 0 };
  try {
    zookeeper = await startZooKeeper({ port: await freePort(), dataDir: path.join(workDir, 'zookeeper') });
    console.log(`# ZooKeeper for the tests: ${zookeeper.connectString} (log in ${zookeeper.dataDir})`);
    const env = { ...process.env, KV_TEST_ZK: zookeeper.connectString };
    for (const suite of suites(filters)) {
      if (suite.files.length === 0) {
        console.log(`# no ${suite.name} test files${filters.length ? ` match ${filters.join(', ')}` : ''}`);
        continue;
      }
      console.log(`# ${suite.name} tests: ${suite.files.length} files`);
      const tally = await runSuite(suite, env, (child) => (testRun = child));
      total.passed += tally.passed;
      total.failed += tally.failed;
    }
  } catch (error) {
    console.error((error as Error).message);
    total.failed += 1;
  } finally {
    await cleanUp();
  }
  if (total.failed > 0 && process.env.KV_KEEP_TMP !== '1') console.log('# KV_KEEP_TMP=1 keeps the logs and data of a run');
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return total.failed > 0 ? 1 : 0;
}

void main().then((code) => process.exit(code));

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '@kvstore/testkit/harness';

/**
 * A build of another commit of this repository, to run beside this one
 * (`--compare <rev>`): a detached git worktree under `dir`, given this
 * checkout's third-party modules (symlinked: an older commit's dependencies
 * are a subset of today's, or the build says so) and its own workspace
 * packages, then compiled with `tsc -b`. Returns its root.
 */
export function buildRevision(revision: string, dir: string): { root: string; commit: string; remove: () => void } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const commit = git('rev-parse', '--verify', `${revision}^{commit}`);
  const root = path.join(dir, `build-${commit.slice(0, 12)}`);
  git('worktree', 'add', '--detach', root, commit);
  const remove = (): void => {
    try {
      git('worktree', 'remove', '--force', root);
    } catch {
      fs.rmSync(root, { recursive: true, force: true });
    }
  };
  try {
    linkModules(root);
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    remove();
    const output = (error as { stdout?: Buffer }).stdout?.toString().slice(0, 2000) ?? '';
    throw new Error(`building ${revision} (${commit.slice(0, 12)}) failed: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return { root, commit, remove };
}

/** node_modules of `root`: every entry of ours linked, but @kvstore/* pointing at root's own packages, so its programs load its own code. */
function linkModules(root: string): void {
  const ours = path.join(REPO_ROOT, 'node_modules');
  const theirs = path.join(root, 'node_modules');
  fs.mkdirSync(path.join(theirs, '@kvstore'), { recursive: true });
  for (const entry of fs.readdirSync(ours)) {
    if (entry !== '@kvstore') fs.symlinkSync(path.join(ours, entry), path.join(theirs, entry));
  }
  for (const pkg of fs.readdirSync(path.join(root, 'packages'))) {
    const manifest = path.join(root, 'packages', pkg, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const name = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string }).name.replace(/^@kvstore\//, '');
    fs.symlinkSync(path.join('..', '..', 'packages', pkg), path.join(theirs, '@kvstore', name));
    const nested = path.join(REPO_ROOT, 'packages', pkg, 'node_modules');
    if (fs.existsSync(nested)) fs.symlinkSync(nested, path.join(root, 'packages', pkg, 'node_modules'));
  }
}

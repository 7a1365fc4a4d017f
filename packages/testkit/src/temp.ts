import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  if (process.env.KV_KEEP_TMP === '1') return;
  for (const dir of made) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A child killed at exit may still be writing; the OS cleans tmp eventually.
    }
  }
});

/** A new directory under the OS temp dir, removed when this process exits (kept if KV_KEEP_TMP=1). */
export function tempDir(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_.-]/g, '-');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kvstore-${safe}-`));
  made.push(dir);
  return dir;
}

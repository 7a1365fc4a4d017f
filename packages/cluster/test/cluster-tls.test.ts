import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pbkdf2 as pbkdf2Callback } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ClusterTls, ConfigError, TlsFilesError, tlsFilesOf, type TlsFiles } from '../src/index';

/** A self-signed certificate (its own CA) and key, as PEM text. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`], {
    cwd: dir,
    stdio: 'ignore',
  });
  return { cert: fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'), key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8') };
}

function install(files: TlsFiles, pair: { cert: string; key: string }): void {
  fs.writeFileSync(files.certFile, pair.cert);
  fs.writeFileSync(files.keyFile, pair.key);
  fs.writeFileSync(files.caFile, pair.cert);
}

const pbkdf2 = promisify(pbkdf2Callback);

const silent = { info: () => undefined, warn: () => undefined };

describe('tlsFilesOf', () => {
  it('takes none or all three of the files', () => {
    assert.equal(tlsFilesOf({ tlsCert: undefined, tlsKey: undefined, tlsCa: undefined }), undefined);
    assert.deepEqual(tlsFilesOf({ tlsCert: 'c', tlsKey: 'k', tlsCa: 'a' }), { certFile: 'c', keyFile: 'k', caFile: 'a' });
    assert.throws(() => tlsFilesOf({ tlsCert: 'c', tlsKey: undefined, tlsCa: undefined }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /missing --tls-key, --tls-ca$/);
      return true;
    });
  });
});

describe('ClusterTls', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-tls-'));
  const files = { certFile: path.join(dir, 'node.pem'), keyFile: path.join(dir, 'node.key'), caFile: path.join(dir, 'ca.pem') };
  const first = selfSigned(dir, 'first');
  const second = selfSigned(dir, 'second');

  it('refuses at start a missing file or a key that is not the certificate\'s, naming the files and not their content', () => {
    assert.throws(() => new ClusterTls({ ...files, certFile: path.join(dir, 'absent.pem') }, silent), (error: unknown) => {
      assert.ok(error instanceof TlsFilesError);
      assert.match(error.message, /^--tls-cert .*absent\.pem: ENOENT$/);
      return true;
    });
    fs.writeFileSync(files.certFile, first.cert);
    fs.writeFileSync(files.keyFile, second.key);
    fs.writeFileSync(files.caFile, first.cert);
    assert.throws(() => new ClusterTls(files, silent), (error: unknown) => {
      assert.ok(error instanceof TlsFilesError);
      assert.ok(!error.message.includes('PRIVATE KEY'));
      return true;
    });
  });

  it('reloads new files into its servers, and keeps the old context when the new files make none', () => {
    install(files, first);
    const warnings: string[] = [];
    const tls = new ClusterTls(files, { info: () => undefined, warn: (_object, message) => warnings.push(message) });
    const contexts: SecureContextOptions[] = [];
    tls.serve({ setSecureContext: (options) => contexts.push(options) });
    try {
      install(files, second);
      assert.equal(tls.reload('test'), true);
      assert.equal(contexts.length, 1);
      assert.equal(String(contexts[0]!.cert), second.cert);
      assert.equal(String(tls.clientOptions().cert), second.cert);

      fs.writeFileSync(files.keyFile, 'not a key');
      assert.equal(tls.reload('test'), false);
      assert.equal(contexts.length, 1);
      assert.equal(String(tls.material.key), second.key);
      assert.deepEqual(warnings, ['TLS files not reloaded: keeping the certificate in use']);
    } finally {
      tls.close();
    }
  });

  it('reloads by itself when the files change, even just after it starts on a busy host', { timeout: 10_000 }, async () => {
    install(files, first);
    const tls = new ClusterTls(files, silent);
    // libuv's threadpool busy, as on a loaded host: a watch whose first look was queued there (fs.watchFile's stat) took the files written below as its baseline and never fired.
    const busy = Array.from({ length: 8 }, () => pbkdf2('busy', 'salt', 100_000, 32, 'sha256'));
    const reloaded = new Promise<SecureContextOptions>((resolve) => tls.serve({ setSecureContext: resolve }));
    // The watch does not hold the process (a server does): this test holds it while it waits.
    const hold = setInterval(() => undefined, 1000);
    try {
      install(files, second);
      assert.equal(String((await reloaded).cert), second.cert);
    } finally {
      clearInterval(hold);
      tls.close();
      await Promise.all(busy);
    }
  });
});

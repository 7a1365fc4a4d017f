import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';

/** A CA and one certificate it signed, for 127.0.0.1 and localhost, good as server and client: what --tls-cert, --tls-key, --tls-ca take. */
export interface TlsFileSet {
  caFile: string;
  /** The CA's private key: issueCertificate signs with it. */
  caKeyFile: string;
  certFile: string;
  keyFile: string;
}

/** openssl is how these files are made; without it, say what to install. */
function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not installed: install it (Debian: apt-get install openssl) to make TLS certificates');
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`);
  }
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Signs a new certificate (random serial, for 127.0.0.1 and localhost) with
 * the set's CA and puts it and its key in place of the set's certificate and
 * key, each through a rename: a process watching them sees whole files.
 */
export function issueCertificate(set: TlsFileSet, commonName = 'kvstore-node'): void {
  const dir = path.dirname(set.certFile);
  const stem = `.issue-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(path.join(dir, `${stem}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  try {
    openssl(['req', ...NEW_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', `/CN=${commonName}`], dir);
    const serial = `0x${randomBytes(8).toString('hex')}`;
    openssl(['x509', '-req', '-in', `${stem}.csr`, '-CA', set.caFile, '-CAkey', set.caKeyFile, '-set_serial', serial, '-days', '825', '-extfile', `${stem}.ext`, '-out', `${stem}.pem`], dir);
    fs.chmodSync(path.join(dir, `${stem}.key`), 0o600);
    fs.renameSync(path.join(dir, `${stem}.pem`), set.certFile);
    fs.renameSync(path.join(dir, `${stem}.key`), set.keyFile);
  } finally {
    for (const leftover of ['ext', 'csr', 'pem', 'key']) fs.rmSync(path.join(dir, `${stem}.${leftover}`), { force: true });
  }
}

/** Makes (once) a CA and a certificate it signed under `dir`: ca.pem, ca.key, node.pem, node.key (keys mode 0600). */
export function ensureTlsFiles(dir: string): TlsFileSet {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const set = { caFile: path.join(dir, 'ca.pem'), caKeyFile: path.join(dir, 'ca.key'), certFile: path.join(dir, 'node.pem'), keyFile: path.join(dir, 'node.key') };
  if (!fs.existsSync(set.caFile) || !fs.existsSync(set.caKeyFile)) {
    openssl(['req', '-x509', ...NEW_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '825', '-subj', '/CN=kvstore-local-ca'], dir);
    fs.chmodSync(set.caKeyFile, 0o600);
    fs.rmSync(set.certFile, { force: true });
  }
  if (!fs.existsSync(set.certFile) || !fs.existsSync(set.keyFile)) issueCertificate(set);
  return set;
}

/** This process's fetch (undici's global dispatcher) trusts `caFile`: the harness's waits and the kit's helpers then reach https:// processes. */
export function trustCa(caFile: string): void {
  setGlobalDispatcher(new Agent({ connect: { ca: fs.readFileSync(caFile) } }));
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is shown (verified against `caFile`). */
export function peerFingerprint(url: string, caFile: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca: fs.readFileSync(caFile) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

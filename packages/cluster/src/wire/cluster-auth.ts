import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { MUX_PATH, MUX_PROTOCOL, type MuxCredentials } from '@kvstore/wire';

/**
 * The cluster secret, and the proofs of it that every internal connection
 * and request carries (docs/internal-protocol.md, "Cluster-secret proofs").
 * A proof is
 *
 *   <timestamp ms>.<nonce: 16 random bytes, hex>.<HMAC-SHA256(secret, context | timestamp | nonce | subject), hex>
 *
 * in the `X-Kv-Cluster-Proof` header, where the subject is what is asked
 * ("GET /internal/status", or the mux upgrade with its protocol). The
 * receiver accepts it within PROOF_WINDOW_MS of its own clock, once: it
 * remembers the nonces it accepted until they leave the window. The secret
 * itself never travels.
 */

export const CLUSTER_PROOF_HEADER = 'x-kv-cluster-proof';
const CLUSTER_SECRET_MIN_BYTES = 16;
/** How far a proof's timestamp may be from the receiver's clock, either way. */
export const PROOF_WINDOW_MS = 30_000;
export const MAKE_SECRET_HINT = 'make one with: head -c 32 /dev/urandom | base64 > cluster.secret';

/** Binds a proof to this use: an HMAC made with the same secret for anything else does not pass. */
const PROOF_CONTEXT = 'kvstore-cluster-proof/1';
const PROOF_FORMAT = /^(\d{1,16})\.([0-9a-f]{32})\.([0-9a-f]{64})$/;
/** Accepted nonces kept for replay checks; past it the oldest are forgotten early (memory stays bounded). */
const MAX_REMEMBERED_NONCES = 65_536;

/** Why a proof was refused: logged, never sent back. */
export type ProofRefusal = 'missing' | 'malformed' | 'outside the clock window' | 'wrong' | 'replayed';

/** The secret file cannot be used: the program says why on one line and exits 2. */
export class ClusterSecretError extends Error {
  override name = 'ClusterSecretError';
}

/** What a proof is bound to: the request's method and url, and the protocol for an upgrade. */
export function proofSubject(method: string, url: string, upgrade?: string): string {
  return upgrade === undefined ? `${method} ${url}` : `${method} ${url} upgrade ${upgrade}`;
}

/** The file's content, trimmed; at least CLUSTER_SECRET_MIN_BYTES of it. Never puts the content in an error. */
export function readClusterSecret(file: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClusterSecretError(`cannot read --cluster-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < CLUSTER_SECRET_MIN_BYTES) {
    throw new ClusterSecretError(
      `--cluster-secret-file ${file} holds ${secret.length} bytes (trimmed); it needs at least ${CLUSTER_SECRET_MIN_BYTES}: ${MAKE_SECRET_HINT}`,
    );
  }
  return secret;
}

/** Writes a new random secret to `file` (readable by its owner only), unless the file exists. Returns `file`. */
export function ensureClusterSecretFile(file: string): string {
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return file;
}

/** Makes and checks proofs of one secret. One per process: its memory of accepted nonces is what stops replays. */
export class ClusterAuth {
  private readonly accepted = new Map<string, number>();

  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < CLUSTER_SECRET_MIN_BYTES) throw new Error(`a cluster secret needs at least ${CLUSTER_SECRET_MIN_BYTES} bytes`);
  }

  /** Reads the secret file (once: the caller keeps the result). Throws ClusterSecretError. */
  static fromFile(file: string): ClusterAuth {
    return new ClusterAuth(readClusterSecret(file));
  }

  /** A fresh proof for `subject`, the value of CLUSTER_PROOF_HEADER. */
  prove(subject: string): string {
    const timestamp = String(this.now());
    const nonce = randomBytes(16).toString('hex');
    return `${timestamp}.${nonce}.${this.mac(subject, timestamp, nonce).toString('hex')}`;
  }

  /** The header for a plain HTTP request to `url` (path and query). */
  headersFor(method: string, url: string): Record<string, string> {
    return { [CLUSTER_PROOF_HEADER]: this.prove(proofSubject(method, url)) };
  }

  /** How a gate or a replica opens a multiplexed connection to a peer: a fresh proof on each upgrade. */
  get muxCredentials(): MuxCredentials {
    return { path: MUX_PATH, headerLines: () => `${CLUSTER_PROOF_HEADER}: ${this.prove(proofSubject('GET', MUX_PATH, MUX_PROTOCOL))}\r\n` };
  }

  /** Undefined when `proof` proves the secret for `subject`, now, for the first time; otherwise why not. */
  check(subject: string, proof: string | undefined): ProofRefusal | undefined {
    if (proof === undefined || proof === '') return 'missing';
    const parts = PROOF_FORMAT.exec(proof);
    if (!parts) return 'malformed';
    const [, timestamp, nonce, mac] = parts as unknown as [string, string, string, string];
    const now = this.now();
    if (Math.abs(now - Number(timestamp)) > PROOF_WINDOW_MS) return 'outside the clock window';
    if (!timingSafeEqual(Buffer.from(mac, 'hex'), this.mac(subject, timestamp, nonce))) return 'wrong';
    this.forgetOld(now);
    if (this.accepted.has(nonce)) return 'replayed';
    this.accepted.set(nonce, Number(timestamp) + PROOF_WINDOW_MS);
    return undefined;
  }

  private mac(subject: string, timestamp: string, nonce: string): Buffer {
    return createHmac('sha256', this.secret).update(`${PROOF_CONTEXT}\n${timestamp}\n${nonce}\n${subject}`).digest();
  }

  /** Nonces are kept in the order accepted, which is about the order they leave the window. */
  private forgetOld(now: number): void {
    for (const [nonce, leavesWindowAt] of this.accepted) {
      if (leavesWindowAt >= now && this.accepted.size < MAX_REMEMBERED_NONCES) return;
      this.accepted.delete(nonce);
    }
  }
}

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CLUSTER_PROOF_HEADER,
  ClusterAuth,
  ClusterSecretError,
  PROOF_WINDOW_MS,
  ensureClusterSecretFile,
  proofSubject,
  readClusterSecret,
} from '../src/wire/cluster-auth';

const SECRET = Buffer.from('0123456789abcdef-the-cluster-secret');
const SUBJECT = proofSubject('GET', '/internal/mux', 'kvstore-mux/1');

/** A clock the test moves by hand. */
function manualClock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('ClusterAuth', () => {
  it('accepts a proof made with the same secret, which does not contain the secret', () => {
    const proof = new ClusterAuth(SECRET).prove(SUBJECT);
    assert.equal(new ClusterAuth(Buffer.from(SECRET)).check(SUBJECT, proof), undefined);
    assert.ok(!proof.includes(SECRET.toString('hex')) && !proof.includes(SECRET.toString()), 'the secret never travels');
  });

  it('refuses a missing, malformed or wrong proof, and one made for another subject', () => {
    const auth = new ClusterAuth(SECRET);
    const stranger = new ClusterAuth(Buffer.from('some-other-cluster-secret'));
    assert.equal(auth.check(SUBJECT, undefined), 'missing');
    assert.equal(auth.check(SUBJECT, ''), 'missing');
    assert.equal(auth.check(SUBJECT, 'Bearer 0123456789abcdef'), 'malformed');
    assert.equal(auth.check(SUBJECT, stranger.prove(SUBJECT)), 'wrong');
    assert.equal(auth.check(SUBJECT, auth.prove(proofSubject('GET', '/internal/status'))), 'wrong');
    const [timestamp, nonce, mac] = auth.prove(SUBJECT).split('.') as [string, string, string];
    assert.equal(auth.check(SUBJECT, `${timestamp}.${nonce}.${mac.slice(0, -1)}${mac.endsWith('0') ? '1' : '0'}`), 'wrong');
    assert.equal(auth.check(SUBJECT, `${timestamp}.${'0'.repeat(32)}.${mac}`), 'wrong', 'the nonce is part of what is signed');
  });

  it('accepts a proof once: the same proof again within the window is a replay', () => {
    const clock = manualClock();
    const sender = new ClusterAuth(SECRET, clock.now);
    const receiver = new ClusterAuth(SECRET, clock.now);
    const proof = sender.prove(SUBJECT);
    assert.equal(receiver.check(SUBJECT, proof), undefined);
    clock.advance(1000);
    assert.equal(receiver.check(SUBJECT, proof), 'replayed');
    assert.equal(receiver.check(SUBJECT, sender.prove(SUBJECT)), undefined, 'a fresh proof still passes');
  });

  it('refuses a proof outside the clock window, either way, replayed or not', () => {
    const clock = manualClock();
    const sender = new ClusterAuth(SECRET, clock.now);
    const receiver = new ClusterAuth(SECRET, clock.now);
    const accepted = sender.prove(SUBJECT);
    assert.equal(receiver.check(SUBJECT, accepted), undefined);
    const old = sender.prove(SUBJECT);
    clock.advance(PROOF_WINDOW_MS + 1);
    assert.equal(receiver.check(SUBJECT, accepted), 'outside the clock window', 'replayed after the window');
    assert.equal(receiver.check(SUBJECT, old), 'outside the clock window', 'never used, but too old');
    const early = new ClusterAuth(SECRET, () => clock.now() + PROOF_WINDOW_MS + 1).prove(SUBJECT);
    assert.equal(receiver.check(SUBJECT, early), 'outside the clock window', 'from a clock too far ahead');
    const skewed = new ClusterAuth(SECRET, () => clock.now() - PROOF_WINDOW_MS).prove(SUBJECT);
    assert.equal(receiver.check(SUBJECT, skewed), undefined, 'a clock at the edge of the window is still accepted');
  });

  it('will not hold a secret shorter than 16 bytes', () => {
    assert.throws(() => new ClusterAuth(Buffer.from('fifteen bytes..')), /at least 16 bytes/);
  });

  it('names its header in lower case, as node gives request headers', () => {
    assert.equal(CLUSTER_PROOF_HEADER, CLUSTER_PROOF_HEADER.toLowerCase());
    assert.deepEqual(Object.keys(new ClusterAuth(SECRET).headersFor('GET', '/internal/status')), [CLUSTER_PROOF_HEADER]);
  });
});

describe('the cluster secret file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvstore-cluster-auth-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content?: string): string => {
    const at = path.join(dir, name);
    if (content !== undefined) fs.writeFileSync(at, content);
    return at;
  };

  it('is read trimmed', () => {
    assert.equal(readClusterSecret(file('padded', '\n  sixteen-bytes-or-more \n')).toString(), 'sixteen-bytes-or-more');
  });

  it('is refused, without showing its content, when shorter than 16 bytes trimmed or unreadable', () => {
    const short = file('short', '  short-secret  \n');
    assert.throws(
      () => readClusterSecret(short),
      (error: unknown) =>
        error instanceof ClusterSecretError &&
        error.message.includes('at least 16') &&
        error.message.includes('head -c 32 /dev/urandom | base64') &&
        !error.message.includes('short-secret'),
    );
    assert.throws(() => readClusterSecret(file('absent')), (error: unknown) => error instanceof ClusterSecretError && /ENOENT/.test(error.message));
    assert.throws(() => ClusterAuth.fromFile(short), ClusterSecretError);
  });

  it('is made owner-readable with a random secret, and left alone once it exists', () => {
    const made = ensureClusterSecretFile(file('made'));
    assert.equal(fs.statSync(made).mode & 0o777, 0o600);
    const secret = readClusterSecret(made);
    assert.ok(secret.length >= 32);
    ensureClusterSecretFile(made);
    assert.deepEqual(readClusterSecret(made), secret);
    assert.notDeepEqual(readClusterSecret(ensureClusterSecretFile(file('another'))), secret);
  });
});

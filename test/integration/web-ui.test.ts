import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { put, startCluster, tempDir, waitFor } from '@kvstore/testkit';
import { REPO_ROOT } from '@kvstore/testkit/harness';
import { chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.KV_CHROMIUM ?? '/usr/bin/chromium';
const SESSION_TIMEOUT_MS = 2000;
/** How soon after a leader's death the page must show its successor: the session timeout, an election, a poll or two. */
const SHOWN_WITHIN_MS = 4 * SESSION_TIMEOUT_MS;

/** Puts fresh keys, two at a time, until stopped: traffic for the page's rates and sparklines. */
function startLoad(gate: string) {
  let running = true;
  const loops = [0, 1].map(async (writer) => {
    for (let n = 0; running; n++) {
      await put(gate, `load-${writer}-${n}`, 'x', { timeoutMs: 5000 }).catch(() => undefined);
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

/** What a partition's card on the page says. */
function card(page: Page, partition: string) {
  return page.locator(`article[data-partition="${partition}"]`);
}

test('the web view shows the partitions, finds a key, and shows a leader kill within seconds', async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or name one in KV_CHROMIUM`);
  const output = tempDir('web-ui');
  t.diagnostic(`screenshots in ${output} (kept with KV_KEEP_TMP=1)`);
  const cluster = await startCluster({ name: 'web-ui', sessionTimeoutMs: SESSION_TIMEOUT_MS, persistent: false });
  t.after(() => cluster.stop());
  await cluster.waitForSettled();
  const gate = cluster.gateUrls[0]!;

  const written = await put(gate, 'web-ui/greeting', 'hello, web view');
  assert.equal(written.status, 200);
  const version = (written.json as { version: number }).version;
  const partition = written.headers.get('x-kv-partition')!;
  const stopLoad = startLoad(gate);
  t.after(stopLoad);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));

  await page.goto(`${gate}/`);
  assert.equal(new URL(page.url()).pathname, '/ui/', '/ leads to the web view');

  // Both partitions, each with the leader the cluster has, healthy.
  const leaders = new Map<string, string>();
  for (const name of ['p0', 'p1']) {
    const leader = (await cluster.leaderOf(name))!.id;
    leaders.set(name, leader);
    await card(page, name).and(page.locator(`[data-leader="${leader}"][data-health="ok"]`)).waitFor({ timeout: 10_000 });
    assert.equal(await card(page, name).locator('.leader').textContent(), leader);
    assert.equal(await card(page, name).locator('tbody tr').count(), 3);
  }
  // The load shows up as a rate on both partitions (sampled from the request histogram).
  await waitFor(
    async () => {
      const rates = await page.locator('article[data-partition] .traffic span:first-child').allTextContents();
      return rates.length === 2 && rates.every((rate) => !rate.startsWith('0 ops/s'));
    },
    { timeoutMs: 10_000, what: 'both partitions to show a rate' },
  );

  // The key box: placement, value and version of the key written above.
  await page.fill('#key-input', 'web-ui/greeting');
  await page.selectOption('#key-consistency', 'strong');
  await page.click('#key-form button');
  await page.locator('.key-value').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('.key-value').textContent(), 'hello, web view');
  assert.equal(await page.locator('.key-version').textContent(), version.toLocaleString('en-US'));
  assert.equal(await page.locator('.key-partition').textContent(), partition);
  await page.screenshot({ path: path.join(output, 'web-ui-healthy.png'), fullPage: true });

  // A leader killed: the page shows its successor, and the partition degraded (a replica short).
  const victim = leaders.get(partition)!;
  const killedAt = Date.now();
  await cluster.servers.get(victim)!.process.kill();
  await card(page, partition)
    .and(page.locator(`[data-health="degraded"]:not([data-leader="${victim}"]):not([data-leader=""])`))
    .waitFor({ timeout: SHOWN_WITHIN_MS });
  const shownAfterMs = Date.now() - killedAt;
  t.diagnostic(`the page showed the new leader of ${partition} ${shownAfterMs} ms after the kill`);
  const successor = await card(page, partition).getAttribute('data-leader');
  assert.equal(successor, (await cluster.leaderOf(partition))?.id);
  // The other partition is untouched (waited for: a status answer slower than its timeout on a busy machine shows as degraded for a second).
  const other = partition === 'p0' ? 'p1' : 'p0';
  await card(page, other).and(page.locator(`[data-health="ok"][data-leader="${leaders.get(other)}"]`)).waitFor({ timeout: 10_000 });

  const screenshot = path.join(output, 'web-ui.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  if (process.env.KV_UPDATE_SCREENSHOT === '1') fs.copyFileSync(screenshot, path.join(REPO_ROOT, 'docs', 'images', 'web-ui.png'));
  assert.deepEqual(consoleErrors, [], 'the page logs no errors');
});

test('with --auth on the web view asks for a token, keeps an admin signed in, refuses others with a message, and signs out', async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}`);
  const cluster = await startCluster({ name: 'web-ui-auth', partitions: 1, replicas: 2, persistent: false, auth: true });
  t.after(() => cluster.stop());
  await cluster.waitForSettled();
  const gate = cluster.gateUrls[0]!;
  const admin = cluster.adminToken()!;
  const added = await fetch(`${gate}/v1/admin/users/viewer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grants: [{ role: 'read' }] }),
  });
  assert.equal(added.status, 201);
  const reader = ((await added.json()) as { token: string }).token;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const signIn = async (token: string): Promise<void> => {
    await page.fill('#token-input', token);
    await page.click('#sign-in button');
  };

  await page.goto(`${gate}/`);
  await page.locator('#sign-in').waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await page.locator('#view').isHidden(), true, 'no view before signing in');

  await signIn(`${reader.split('.')[0]!}.${'A'.repeat(43)}`);
  await page.locator('#sign-in-message', { hasText: 'token refused: the token is not valid' }).waitFor({ timeout: 10_000 });
  await signIn(reader);
  await page.locator('#sign-in-message', { hasText: 'user viewer lacks the admin role: the web view is for admins' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#view').isHidden(), true);

  await signIn(admin);
  await card(page, 'p0').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#user').textContent(), 'signed in as admin');
  assert.equal(await page.locator('a[href="/metrics"]').isHidden(), true, 'links the cookie does not open are hidden');
  const [session] = (await page.context().cookies()).filter((cookie) => cookie.name === 'kvstore_ui');
  assert.equal(session?.httpOnly, true);
  assert.equal(session?.sameSite, 'Strict');
  assert.equal(session?.path, '/v1/ui');
  assert.equal(await page.evaluate('document.cookie'), '', "the page's script cannot read the token");

  await page.reload();
  await card(page, 'p0').waitFor({ timeout: 10_000 });

  await page.click('#sign-out');
  await page.locator('#sign-in-message', { hasText: 'signed out' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#view').isHidden(), true);
  await page.reload();
  await page.locator('#sign-in').waitFor({ state: 'visible', timeout: 10_000 });
  assert.deepEqual(pageErrors, [], 'the page throws nothing');
});

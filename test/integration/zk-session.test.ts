import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZkError, ZkSession } from '@kvstore/cluster';
import { TcpProxy, uniqueClusterName, zookeeperForTests } from '@kvstore/testkit';

describe('ZkSession against a real ZooKeeper', () => {
  let session: ZkSession;
  const root = `/kvstore/${uniqueClusterName('zk-session')}`;

  before(async () => {
    session = await ZkSession.connect((await zookeeperForTests()).connectString, { sessionTimeoutMs: 5000 });
    await session.mkdirp(root);
  });
  after(() => session.close());

  it('a multi compare-and-set at version 0 fails on a node that has moved past it (the client library would send "any version")', async () => {
    const path = `${root}/cas`;
    await session.create(path, Buffer.from('v0'), 'persistent');
    await session.setData(path, Buffer.from('v1'), 0);
    await assert.rejects(
      session.multi([{ op: 'setData', path, data: Buffer.from('lost'), version: 0 }]),
      (error: unknown) => error instanceof ZkError && error.code === 'BAD_VERSION',
    );
    assert.equal((await session.getData(path))?.data.toString(), 'v1');
  });

  it('a multi writes all or nothing, and names the path whose operation failed', async () => {
    const state = `${root}/state`;
    const leader = `${root}/leader`;
    await session.create(state, Buffer.from('s0'), 'persistent');
    const ops = [
      { op: 'check', path: `${root}/no-such-member` },
      { op: 'setData', path: state, data: Buffer.from('s1'), version: 0 },
      { op: 'create', path: leader, data: Buffer.from('me'), mode: 'ephemeral' },
    ] as const;
    await assert.rejects(session.multi(ops), (error: unknown) => error instanceof ZkError && error.code === 'NO_NODE' && error.message.includes('no-such-member'));
    assert.equal((await session.getData(state))?.data.toString(), 's0');
    assert.equal(await session.getData(leader), undefined);

    await session.create(`${root}/no-such-member`, Buffer.alloc(0), 'ephemeral');
    await session.multi(ops);
    assert.equal((await session.getData(state))?.data.toString(), 's1');
    assert.equal((await session.getData(leader))?.data.toString(), 'me');
  });

  it('arms one watcher function once per change however often it is passed', async () => {
    const path = `${root}/watched`;
    await session.create(path, Buffer.from('0'), 'persistent');
    let fired = 0;
    let resolveFired: () => void = () => undefined;
    const watcher = (): void => {
      fired++;
      resolveFired();
    };
    for (let read = 0; read < 3; read++) await session.getData(path, watcher);
    const firedOnce = new Promise<void>((resolve) => (resolveFired = resolve));
    await session.setData(path, Buffer.from('1'), 0);
    await firedOnce;
    await session.setData(path, Buffer.from('2'), 1); // no watch armed any more
    await session.getData(path); // a round trip: a second notice would have arrived before its answer
    assert.equal(fired, 1);
  });

  it('fails a call still waiting for an answer when the session is closed, instead of leaving it pending forever', async (t) => {
    const proxy = await TcpProxy.start((await zookeeperForTests()).port);
    t.after(() => proxy.close());
    const cutOff = await ZkSession.connect(proxy.address, { sessionTimeoutMs: 5000 });
    proxy.blackhole(); // requests go out and nothing comes back, nor does the connection end
    const read = cutOff.getData(`${root}/anything`);
    cutOff.close();
    await assert.rejects(read, (error: unknown) => error instanceof ZkError && error.code === 'CONNECTION_LOSS');
  });
});

import { randomBytes } from 'node:crypto';
import type { RequestShape } from './load';

/** Picks a key number for each request. */
export type KeyPicker = () => number;

export const uniformKeys = (count: number): KeyPicker => () => Math.floor(Math.random() * count);
export const keysFrom = (numbers: readonly number[]): KeyPicker => () => numbers[Math.floor(Math.random() * numbers.length)]!;

export function keyOf(n: number): string {
  return `bench-${n}`;
}

/**
 * The requests of the scenarios: keys "bench-<n>", values of random bytes
 * (from a pool, so that making a request costs the load generator little),
 * for kvstore's API and for etcd's JSON gateway.
 */
export class Workload {
  private readonly values: Buffer[];
  private readonly values64: string[];

  constructor(valueBytes: number) {
    this.values = Array.from({ length: 64 }, () => randomBytes(valueBytes));
    this.values64 = this.values.map((value) => value.toString('base64'));
  }

  private pick<T>(pool: T[]): T {
    return pool[Math.floor(Math.random() * pool.length)]!;
  }

  kvGet(key: KeyPicker, consistency: 'strong' | 'eventual'): () => RequestShape {
    return () => ({ method: 'GET', path: `/v1/kv/${keyOf(key())}?consistency=${consistency}` });
  }

  kvPutOf(n: number): RequestShape {
    return { method: 'PUT', path: `/v1/kv/${keyOf(n)}`, body: this.pick(this.values) };
  }

  kvPut(key: KeyPicker): () => RequestShape {
    return () => this.kvPutOf(key());
  }

  /** The shares of PUTs and DELETEs; the rest are strong GETs. */
  kvReadWriteDelete(key: KeyPicker, shares: { put: number; delete: number }): () => RequestShape {
    const get = this.kvGet(key, 'strong');
    return () => {
      const draw = Math.random();
      if (draw < shares.put) return this.kvPutOf(key());
      if (draw < shares.put + shares.delete) return { method: 'DELETE', path: `/v1/kv/${keyOf(key())}` };
      return get();
    };
  }

  /** `putShare` of the requests are PUTs, the rest strong GETs. */
  kvMix(key: KeyPicker, putShare: number): () => RequestShape {
    const get = this.kvGet(key, 'strong');
    return () => (Math.random() < putShare ? this.kvPutOf(key()) : get());
  }

  /** A linearizable read (etcd's default for a range). */
  etcdRange(key: KeyPicker): () => RequestShape {
    return () => ({ method: 'POST', path: '/v3/kv/range', body: `{"key":"${Buffer.from(keyOf(key())).toString('base64')}"}` });
  }

  etcdPutOf(n: number): RequestShape {
    return { method: 'POST', path: '/v3/kv/put', body: `{"key":"${Buffer.from(keyOf(n)).toString('base64')}","value":"${this.pick(this.values64)}"}` };
  }

  etcdPut(key: KeyPicker): () => RequestShape {
    return () => this.etcdPutOf(key());
  }
}

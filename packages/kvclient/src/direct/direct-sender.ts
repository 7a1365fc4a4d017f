import { HEADER_ROUTING_VERSION, errorFromAnswer, type KvError } from '@kvstore/protocol';
import type { ClientRequest, GateAnswer, GateLink } from '../gate-link';
import { NoAnswer, unknownOutcome } from '../http-errors';
import { mayRepeat } from '../retry';
import type { KeyUse } from './direct-routes';
import type { RouteCache } from './route-cache';

/**
 * Sends a `/v1/kv` request straight to the replica that serves its key, on
 * the replica's public port, by the ring version it routed by. What a gate
 * would retry (the failures the API says were not applied, and a read's
 * unknown outcome) is handed back as "take the gate" with the table marked
 * wrong; a write that may have arrived is never sent again (TIMEOUT), and
 * every other answer is the request's answer, as through a gate.
 */
export class DirectSender {
  private readonly links = new Map<string, GateLink>();

  constructor(
    private readonly cache: RouteCache,
    private readonly linkTo: (url: string) => GateLink,
  ) {}

  /** The replica's success answer; undefined when the request is to go through a gate instead. Throws the replica's final refusal. */
  async send(request: ClientRequest, key: string, use: KeyUse): Promise<GateAnswer<Buffer> | undefined> {
    const routes = await this.cache.routes();
    const target = routes?.target(key, use);
    if (!routes || !target) return undefined;
    let answer: GateAnswer<Buffer>;
    try {
      const headers = { ...request.headers, [HEADER_ROUTING_VERSION]: String(routes.ringVersion) };
      answer = await this.link(target.url).exchange({ ...request, headers });
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      if (request.write && !error.sentNothing) throw unknownOutcome(error);
      this.cache.invalidate();
      return undefined;
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    const refusal = errorFromAnswer(answer.status, answer.body, answer.host);
    if (!mayRepeat(refusal, request.write)) throw refusal;
    this.cache.invalidate(judgedBy(refusal, answer));
    return undefined;
  }

  stop(): void {
    this.cache.stop();
  }

  private link(url: string): GateLink {
    let link = this.links.get(url);
    if (!link) {
      link = this.linkTo(url);
      this.links.set(url, link);
    }
    return link;
  }
}

/** A WRONG_PARTITION names the ring the replica judged by: only a newer one than ours makes our table wrong. */
function judgedBy(refusal: KvError, answer: GateAnswer<Buffer>): number | undefined {
  if (refusal.code !== 'WRONG_PARTITION') return undefined;
  const value = answer.headers[HEADER_ROUTING_VERSION];
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

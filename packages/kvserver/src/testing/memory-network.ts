import type { Clock } from '../clock';
import type { AppendRequest, AppendResponse, InstallSnapshotRequest, SnapshotSource, SnapshotStream } from '../replication/messages';
import type { PeerTransport } from '../replication/transport';

/** What the network delivers to: a replica's handlers (Replica has them). */
export interface PeerEndpoint {
  handleAppend(request: AppendRequest): Promise<AppendResponse>;
  installSnapshot(request: InstallSnapshotRequest): Promise<AppendResponse>;
  snapshotFor(epoch: number): SnapshotSource;
}

export type CallKind = 'append' | 'installSnapshot' | 'fetchSnapshot';

export interface NetworkCall {
  kind: CallKind;
  from: string;
  to: string;
}

/** A failed call, with the code a socket error would carry. */
export class NetworkError extends Error {
  constructor(
    readonly code: 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT',
    message: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

/**
 * What an unreliable network does to append calls (requests and answers),
 * each decision drawn from `random` so that a seed replays a run.
 */
export interface NetworkFaults {
  /** Uniform in [0, 1). */
  random(): number;
  /** The chance that a request, and then its answer, is lost: the caller times out. */
  loss: number;
  /** The chance that a request is delivered twice; the caller gets whichever answer comes back first. */
  duplication: number;
  /** Each request and each answer waits up to this long (on the clock), so they overtake one another. */
  maxDelayMs: number;
}

interface HeldCall {
  call: NetworkCall;
  release(): void;
  fail(error: NetworkError): void;
}

/**
 * Replicas talking in memory. A request and its answer each travel on
 * their own turn of the event loop (setImmediate), so ordering resembles a
 * network; every call is recorded in `calls`. `cut(url)` refuses calls to
 * and from a url (and resets those under way); `pause(url)` holds them, as
 * a SIGSTOPped process would, until `resume` or until the caller's timeout
 * (on the injected clock). A call whose caller gave up is never delivered.
 * `setFaults` makes append calls late, lost, duplicated and reordered (a
 * late request still arrives after its caller gave up, as on a network).
 */
export class MemoryNetwork {
  readonly calls: NetworkCall[] = [];
  private readonly endpoints = new Map<string, PeerEndpoint>();
  private readonly cutUrls = new Set<string>();
  private readonly pausedUrls = new Set<string>();
  private held: HeldCall[] = [];
  private hopsUnderWay = 0;
  private readonly observers: ((call: NetworkCall) => void)[] = [];
  private faults: NetworkFaults | undefined;

  constructor(private readonly clock: Clock) {}

  register(url: string, endpoint: PeerEndpoint): void {
    this.endpoints.set(url, endpoint);
  }

  /** The transport a replica at `fromUrl` sends with. */
  transportFor(fromUrl: string): PeerTransport {
    return {
      append: (url, request, timeoutMs) => this.call({ kind: 'append', from: fromUrl, to: url }, timeoutMs, (peer) => peer.handleAppend(request)),
      installSnapshot: (url, request, timeoutMs) =>
        this.call({ kind: 'installSnapshot', from: fromUrl, to: url }, timeoutMs, (peer) => peer.installSnapshot(request)),
      fetchSnapshot: (leaderUrl, epoch, timeoutMs) =>
        this.call({ kind: 'fetchSnapshot', from: fromUrl, to: leaderUrl }, timeoutMs, (peer) => streamOf(peer.snapshotFor(epoch))),
    };
  }

  /** Calls `observer` as each call is sent, before it is delivered. */
  onCall(observer: (call: NetworkCall) => void): void {
    this.observers.push(observer);
  }

  /** No request or answer is travelling (held calls wait for a resume or a timeout, not for the event loop). */
  get idle(): boolean {
    return this.hopsUnderWay === 0;
  }

  countCalls(kind: CallKind, to?: string): number {
    return this.calls.filter((call) => call.kind === kind && (to === undefined || call.to === to)).length;
  }

  /** From now on append calls suffer `faults`; undefined makes the network reliable again. */
  setFaults(faults: NetworkFaults | undefined): void {
    this.faults = faults;
  }

  cut(url: string): void {
    this.cutUrls.add(url);
    for (const held of this.held.filter(({ call }) => touches(call, url))) {
      held.fail(new NetworkError('ECONNRESET', `connection to ${held.call.to} reset`));
    }
  }

  heal(url: string): void {
    this.cutUrls.delete(url);
  }

  pause(url: string): void {
    this.pausedUrls.add(url);
  }

  resume(url: string): void {
    this.pausedUrls.delete(url);
    for (const held of this.held.filter(({ call }) => !this.isPaused(call))) held.release();
  }

  private call<T>(call: NetworkCall, timeoutMs: number, handle: (peer: PeerEndpoint) => T | Promise<T>): Promise<T> {
    this.calls.push(call);
    for (const observer of this.observers) observer(call);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        this.held = this.held.filter((held) => held.call !== call);
        settle();
      };
      const timer = this.clock.setTimeout(
        () => finish(() => reject(new NetworkError('ETIMEDOUT', `${call.kind} to ${call.to} timed out after ${timeoutMs} ms`))),
        timeoutMs,
      );
      const failHeld = (error: NetworkError): void => finish(() => reject(error));
      this.deliver(call, handle, failHeld).then(
        (answer) => finish(() => resolve(answer)),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  private deliver<T>(call: NetworkCall, handle: (peer: PeerEndpoint) => T | Promise<T>, failHeld: (error: NetworkError) => void): Promise<T> {
    const faults = call.kind === 'append' ? this.faults : undefined;
    if (!faults || faults.random() >= faults.duplication) return this.deliverOnce(call, handle, failHeld, faults);
    return Promise.race([this.deliverOnce(call, handle, failHeld, faults), this.deliverOnce(call, handle, failHeld, faults)]);
  }

  private async deliverOnce<T>(
    call: NetworkCall,
    handle: (peer: PeerEndpoint) => T | Promise<T>,
    failHeld: (error: NetworkError) => void,
    faults: NetworkFaults | undefined,
  ): Promise<T> {
    await this.hop();
    if (faults) await this.jitter(faults);
    this.checkLink(call);
    if (this.isPaused(call)) {
      // Released by resume; a call that fails or times out meanwhile is dropped from `held` and never delivered.
      await new Promise<void>((release) => this.held.push({ call, release, fail: failHeld }));
    }
    const peer = this.endpoints.get(call.to);
    if (!peer) throw new NetworkError('ECONNREFUSED', `nothing listens at ${call.to}`);
    const answer = await handle(peer);
    await this.hop();
    if (faults) await this.jitter(faults);
    this.checkLink(call);
    return answer;
  }

  /** A random delay on the clock, or (by the loss chance) forever: the caller's timeout ends the call. */
  private jitter(faults: NetworkFaults): Promise<void> {
    if (faults.random() < faults.loss) return new Promise<void>(() => {});
    return new Promise((resolve) => this.clock.setTimeout(resolve, Math.floor(faults.random() * faults.maxDelayMs)));
  }

  private hop(): Promise<void> {
    this.hopsUnderWay++;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.hopsUnderWay--;
        resolve();
      }),
    );
  }

  private checkLink(call: NetworkCall): void {
    const down = [call.from, call.to].find((url) => this.cutUrls.has(url));
    if (down) throw new NetworkError('ECONNREFUSED', `${call.kind} from ${call.from} to ${call.to}: ${down} is cut off`);
  }

  private isPaused(call: NetworkCall): boolean {
    return this.pausedUrls.has(call.from) || this.pausedUrls.has(call.to);
  }
}

function touches(call: NetworkCall, url: string): boolean {
  return call.from === url || call.to === url;
}

/** The leader's snapshot as a follower receives it: read whole at once (as of the leader's view), in one chunk. */
function streamOf(source: SnapshotSource): SnapshotStream {
  const records = [...source.records];
  source.close();
  return {
    seq: source.seq,
    epoch: source.epoch,
    slots: source.slots,
    chunks: (async function* () {
      yield records;
    })(),
  };
}

/**
 * The error codes every package shares (docs/api.md, "Errors").
 * One table maps a code to its HTTP status and to whether a gate or client
 * may retry it, and errorFromAnswer maps an HTTP answer back to a code;
 * nothing else in the code base decides any of these.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, retryable: false },
  /** Internal routes only: no valid proof of the cluster secret. */
  UNAUTHORIZED: { status: 401, retryable: false },
  /** Gate, with `--auth on`: no bearer token, or one that matches no user. */
  UNAUTHENTICATED: { status: 401, retryable: false },
  /** Gate, with `--auth on`: the token's user has no grant for this request. */
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  /** Admin: the cluster is in a state that refuses the change (a migration runs, or none does to abort). */
  CONFLICT: { status: 409, retryable: false },
  PRECONDITION_FAILED: { status: 412, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  /** Gate: over the client's request rate or in-flight limit (docs/security.md, "Limits"); Retry-After says when to try again. */
  TOO_MANY_REQUESTS: { status: 429, retryable: false },
  NOT_LEADER: { status: 421, retryable: true },
  WRONG_PARTITION: { status: 421, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
  TIMEOUT: { status: 504, retryable: false },
  INTERNAL: { status: 500, retryable: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  /** `requestId`: the request's X-Request-Id, for finding its lines in the gate's and the replica's logs. */
  error: { code: ErrorCode; message: string; leader?: string; requestId?: string };
}

export class KvError extends Error {
  readonly code: ErrorCode;
  /** For NOT_LEADER: the leader's url when known. */
  readonly leader: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; leader?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KvError';
    this.code = code;
    this.leader = options.leader;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** A gate may try this request again elsewhere (or later) without changing its meaning. */
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.leader !== undefined) body.error.leader = this.leader;
    return body;
  }
}

export const badRequest = (message: string): KvError => new KvError('BAD_REQUEST', message);
export const notFound = (message = 'key not found'): KvError => new KvError('NOT_FOUND', message);
export const unauthenticated = (message: string): KvError => new KvError('UNAUTHENTICATED', message);
export const forbidden = (message: string): KvError => new KvError('FORBIDDEN', message);
export const conflict = (message: string): KvError => new KvError('CONFLICT', message);
export const preconditionFailed = (message: string): KvError => new KvError('PRECONDITION_FAILED', message);
export const payloadTooLarge = (message: string): KvError => new KvError('PAYLOAD_TOO_LARGE', message);
export const unavailable = (message: string, cause?: unknown): KvError => new KvError('UNAVAILABLE', message, { cause });
export const timeout = (message: string): KvError => new KvError('TIMEOUT', message);
export const notLeader = (leader: string | undefined): KvError =>
  new KvError('NOT_LEADER', leader ? `not the leader; the leader is ${leader}` : 'not the leader; no leader is known', {
    leader,
  });

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** Reads `{"error":{"code","message"}}` from a parsed body; undefined if it is not one. */
export function errorFromBody(body: unknown): KvError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, leader } = error as { code?: unknown; message?: unknown; leader?: unknown };
  if (!isErrorCode(code)) return undefined;
  return new KvError(code, typeof message === 'string' ? message : code, {
    leader: typeof leader === 'string' ? leader : undefined,
  });
}

/**
 * The KvError for a non-2xx HTTP answer: a replica's to a gate, or a gate's
 * to a client. The API's error body is believed only with its code's status.
 * An answer without one came from something else on the way, such as a load
 * balancer whose gate died mid-request, perhaps after forwarding it, so its
 * status says little: a 5xx is an unknown outcome (TIMEOUT), never a refusal
 * safe to repeat; a 421 was not processed (RFC 9110 15.5.20) and may go
 * elsewhere; a 413 is a body limit on the way; any other 4xx was refused
 * unprocessed, though not by the API (a bare 404 is no "key not found").
 */
export function errorFromAnswer(status: number, body: Buffer, from: string): KvError {
  const fromBody = errorFromBody(parseJson(body));
  if (fromBody && ERROR_CODES[fromBody.code].status === status) return fromBody;
  const bare = `${from} answered HTTP ${status} without an API error body`;
  if (status >= 500 && status < 600) return new KvError('TIMEOUT', `${bare}; the request's outcome is unknown`);
  if (status === 421) return new KvError('NOT_LEADER', bare);
  if (status === 413) return new KvError('PAYLOAD_TOO_LARGE', bare);
  if (status === 429) return new KvError('TOO_MANY_REQUESTS', bare);
  if (status >= 400 && status < 500) return new KvError('BAD_REQUEST', bare);
  return new KvError('INTERNAL', bare);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

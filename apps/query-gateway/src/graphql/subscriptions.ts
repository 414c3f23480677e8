import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { AuthError, type AuthSuccess } from '@cb/auth';
import { toToken } from '@cb/domain';
import type { Principal, TokenEvent as CbTokenEvent } from '@cb/schemas';
import { SUBJECT_SAFE_ID_PATTERN, type Naming } from '@cb/subjects';
import { ApiError } from '../api-error';
import { HIDDEN_TENANT } from '../auth/plugin';
import type { LiveFrame } from '../read/sse-frames';
import type { GraphqlContext } from './context';
import type { GraphqlDeps } from './deps';
import { LiveIterator } from './live-iterator';
import { toGqlToken, type GqlToken } from './mapping';

export interface SubscriptionLimits {
  /** Subscriptions one WebSocket may hold at once. */
  maxPerConnection: number;
  /** A connection that has not sent `connection_init` by then is closed (4408). */
  initTimeoutMs: number;
  /** graphql-transport-ws `ping` interval (the client answers `pong`). */
  keepAliveMs: number;
  /** How often a connection's credential is checked again (revoked keys lose their connection). */
  recheckMs: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxPerConnection: 20,
  initTimeoutMs: 10_000,
  keepAliveMs: 15_000,
  recheckMs: 60_000,
};

/** The live-event fan-out SSE uses (hubs, slots, buffer bound) and REST's authenticator. */
export type SubscriptionDeps = GraphqlDeps & { limits?: Partial<SubscriptionLimits> };

/** `TokenEvent` of the schema: the token is the API token after the event. */
export interface TokenEventPayload {
  eventType: string;
  token: GqlToken;
  timestamp: string;
  source: string;
  seq: number;
}

/** `WorkflowEvent` of the schema: `data` is the whole event (as SSE's `data.event`). */
export interface WorkflowEventPayload {
  eventType: string;
  workflowId: string;
  data: CbTokenEvent;
  timestamp: string;
  seq: number;
}

/** What onConnect puts in every subscription's context (merged by mercurius). */
export interface LiveContext extends GraphqlContext {
  auth: AuthSuccess;
  liveConnection: LiveConnection;
}

/**
 * A memo that keeps nothing: a subscription's context lives as long as its socket, and each
 * event's token must be resolved afresh (its history grows with every event).
 */
class NoMemo extends Map<string, Promise<unknown>> {
  override set(): this {
    return this;
  }
}

/** graphql-transport-ws close codes the gateway uses. */
export const CLOSE = {
  /** The credential in `connection_init` is missing, invalid, expired or revoked. */
  FORBIDDEN: 4403,
  /** No `connection_init` within `initTimeoutMs`. */
  INIT_TIMEOUT: 4408,
  /** The key's rate limit is used up, or the gateway holds as many connections as it serves. */
  TOO_MANY: 4429,
  /** The credential cannot be checked now (NATS). */
  UNAVAILABLE: 1013,
} as const;

const ID = new RegExp(SUBJECT_SAFE_ID_PATTERN);

/** What the gateway uses of a `ws` WebSocket (the package ships no types). */
export interface WebSocket {
  readonly readyState: number;
  readonly OPEN: number;
  close(code: number, reason: string): void;
  once(event: 'close', fn: () => void): unknown;
}

/** A subscription as its connection sees it: something to end. */
interface Ending {
  return(): Promise<unknown>;
}

/**
 * One WebSocket's bookkeeping: its subscriptions (bounded; all let go when it closes, whatever
 * mercurius does), its `connection_init` timer and the timers that end it with its credential.
 */
export class LiveConnection {
  readonly subscriptions = new Set<Ending>();
  /** Subscriptions admitted but still starting (counted against the bound before any await). */
  starting = 0;
  initialised = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly socket: WebSocket) {
    socket.once('close', () => this.closed());
  }

  after(ms: number, fn: () => void, repeat = false): void {
    const timer = repeat ? setInterval(fn, ms) : setTimeout(fn, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Close with a code and a reason the client sees (at most 123 bytes, as WebSocket allows). */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
    }
  }

  private closed(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const it of [...this.subscriptions]) void it.return();
  }
}

const connections = new WeakMap<WebSocket, LiveConnection>();

/** The bits of mercurius' connection object onConnect is called on (`this`). */
interface MercuriusConnectionThis {
  socket?: WebSocket;
  context?: { request?: { ip?: string; id?: string; log?: GraphqlContext['log'] } };
}

/**
 * Transport wiring for plugin.ts, before mercurius is registered: every WebSocket upgrade on
 * the server gets a LiveConnection with its `connection_init` timeout, and connections beyond
 * the gateway's bound are closed at once. `wss` is @fastify/websocket's server.
 */
export function trackConnections(
  wss: { on(event: 'connection', fn: (ws: WebSocket, req: IncomingMessage) => void): unknown },
  deps: Pick<SubscriptionDeps, 'live' | 'limits'>,
): void {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  let open = 0;
  wss.on('connection', (ws) => {
    const conn = new LiveConnection(ws);
    connections.set(ws, conn);
    open++;
    ws.once('close', () => open--);
    if (open > deps.live.options.maxConnections) {
      conn.close(
        CLOSE.TOO_MANY,
        'TOO_MANY_REQUESTS: the gateway holds as many connections as it serves; retry later',
      );
      return;
    }
    conn.after(limits.initTimeoutMs, () => {
      if (!conn.initialised) conn.close(CLOSE.INIT_TIMEOUT, 'Connection initialisation timeout');
    });
  });
}

/**
 * mercurius' `subscription` option: graphql-transport-ws on `/graphql`, authenticated by the
 * `connection_init` payload `{ authorization: "Bearer …" }` with the same authenticator, rate
 * limiter and failure slow-down as REST. A refused credential closes the socket with 4403 and
 * a reason naming the code (UNAUTHENTICATED), never which check failed.
 */
export function subscriptionOptions(deps: SubscriptionDeps) {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  const { authenticator, limiter, slowdown } = deps.auth;

  async function onConnect(
    this: MercuriusConnectionThis | undefined,
    data: { payload?: unknown },
  ): Promise<LiveContext | false> {
    const socket = this?.socket;
    const conn = socket ? connections.get(socket) : undefined;
    // Without our bookkeeping (mercurius changed how it calls us) nothing is served.
    if (!socket || !conn || conn.initialised) return false;
    conn.initialised = true;
    const authorization = authorizationOf(data.payload);
    let result;
    try {
      result = await authenticator.authenticate(authorization);
    } catch (err) {
      if (err instanceof AuthError && err.code === 'UNAVAILABLE') {
        conn.close(
          CLOSE.UNAVAILABLE,
          'SERVICE_UNAVAILABLE: credentials cannot be checked now; retry shortly',
        );
        return false;
      }
      throw err;
    }
    if (!result.ok) {
      const delay = slowdown.failed(this?.context?.request?.ip ?? 'unknown');
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      conn.close(
        CLOSE.FORBIDDEN,
        'UNAUTHENTICATED: send connection_init { authorization: "Bearer <API key or session>" }',
      );
      return false;
    }
    const { principal } = result;
    if (!principal.root) {
      const decision = await limiter.take(principal.keyId, result.rateLimit);
      if (!decision.allowed) {
        conn.close(CLOSE.TOO_MANY, `RATE_LIMITED: retry in ${decision.resetSeconds} s`);
        return false;
      }
    }
    watchCredential(conn, authorization ?? '', result, deps, limits.recheckMs);
    const log = this?.context?.request?.log;
    return {
      principal,
      auth: result,
      liveConnection: conn,
      deps,
      requestId: this?.context?.request?.id ?? 'ws',
      memo: new NoMemo(),
      ...(log ? { log } : {}),
    } as LiveContext;
  }

  return {
    onConnect,
    keepAlive: limits.keepAliveMs,
    // Only subscriptions over the socket; queries and mutations go over HTTP.
    fullWsTransport: false,
  };
}

/**
 * The credential ends the connection when it would stop working for REST: at its expiry, and
 * (revoked, or no longer valid) at the next re-check.
 */
function watchCredential(
  conn: LiveConnection,
  authorization: string,
  auth: AuthSuccess,
  deps: SubscriptionDeps,
  recheckMs: number,
): void {
  const expired = () =>
    conn.close(CLOSE.FORBIDDEN, 'UNAUTHENTICATED: the credential expired or was revoked');
  if (auth.expiresAt !== undefined) {
    const ms = Date.parse(auth.expiresAt) - Date.now();
    if (ms < 2 ** 31) conn.after(Math.max(0, ms), expired);
  }
  conn.after(
    recheckMs,
    () => {
      deps.auth.authenticator.authenticate(authorization).then(
        (r) => {
          if (!r.ok) expired();
        },
        () => undefined, // NATS unavailable: keep the connection, check again later
      );
    },
    true,
  );
}

/** `authorization` (any case) of the payload, a string; anything else is no credential. */
function authorizationOf(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  for (const [k, v] of Object.entries(payload)) {
    if (k.toLowerCase() === 'authorization' && typeof v === 'string') return v;
  }
  return undefined;
}

interface TokenUpdatesArgs {
  tokenId: string;
  afterSeq?: number | null;
}
interface WorkflowEventsArgs {
  workflowId: string;
  afterSeq?: number | null;
}
interface TokenEventsArgs {
  workflowId: string;
  placeName?: string | null;
  afterSeq?: number | null;
}

/**
 * The `Subscription` resolvers: each follows the hub SSE would follow for the same thing,
 * with the same checks as the SSE routes (scope `read`; the tenant of the credential; a key
 * restricted to some workflows sees the others as missing: WORKFLOW_NOT_FOUND/TOKEN_NOT_FOUND).
 */
export function subscriptionResolvers(deps: SubscriptionDeps) {
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...deps.limits };
  const { live, reads, naming } = deps;

  async function follow<T>(
    ctx: unknown,
    afterSeq: number | null | undefined,
    resolve: (principal: Principal) => Promise<string>,
    map: (frame: LiveFrame, naming: Naming, tenant: string) => T | null,
  ): Promise<AsyncIterableIterator<T>> {
    try {
      const { principal, liveConnection: conn } = liveContextOf(ctx);
      if (!principal.scopes.includes('read')) {
        const held = principal.scopes.length > 0 ? principal.scopes.join(', ') : 'none';
        throw new ApiError(
          'FORBIDDEN',
          `this operation needs the scope read; the credential has ${held}`,
          { scope: 'read' },
        );
      }
      if (afterSeq !== undefined && afterSeq !== null && afterSeq < 0) {
        throw new ApiError('VALIDATION_ERROR', 'afterSeq must be 0 or more');
      }
      // Admitted before the first await: subscriptions sent together all see the others.
      if (conn.subscriptions.size + conn.starting >= limits.maxPerConnection) {
        throw new ApiError(
          'TOO_MANY_REQUESTS',
          `a connection holds at most ${limits.maxPerConnection} subscriptions; complete one first`,
          { limit: limits.maxPerConnection },
        );
      }
      conn.starting++;
      let filter: string;
      try {
        filter = await resolve(principal);
      } finally {
        conn.starting--;
      }
      const release = live.reserve();
      const it: LiveIterator<T> = new LiveIterator<T>(live.hubs, {
        filter,
        afterSeq: afterSeq ?? undefined,
        map: (frame) => map(frame, naming, principal.tenant),
        bufferBytes: live.options.clientBufferBytes,
        onEnd: (reason) => {
          release(reason);
          conn.subscriptions.delete(it);
        },
      });
      conn.subscriptions.add(it);
      await it.start();
      // The socket closed meanwhile: its close let go of every subscription, this one too.
      if (conn.socket.readyState !== conn.socket.OPEN) await it.return();
      return it;
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  return {
    tokenUpdates: {
      subscribe: (_root: unknown, args: TokenUpdatesArgs, ctx: unknown) =>
        follow(
          ctx,
          args.afterSeq,
          async (principal) => {
            assertId('tokenId', args.tokenId);
            const tenant = principal.tenant;
            const { value } = await reads.token(tenant, undefined, args.tokenId);
            const visible =
              principal.workflows === undefined || principal.workflows.includes(value.workflowId);
            if (!visible) {
              throw new ApiError('TOKEN_NOT_FOUND', `token ${args.tokenId} does not exist`);
            }
            return naming.tokenSubject(tenant, value.workflowId, args.tokenId);
          },
          tokenEventOf,
        ),
      resolve: (payload: TokenEventPayload) => payload,
    },
    workflowEvents: {
      subscribe: (_root: unknown, args: WorkflowEventsArgs, ctx: unknown) =>
        follow(
          ctx,
          args.afterSeq,
          (principal) => workflowFilter(principal, args.workflowId),
          workflowEventOf,
        ),
      resolve: (payload: WorkflowEventPayload) => payload,
    },
    tokenEvents: {
      subscribe: (_root: unknown, args: TokenEventsArgs, ctx: unknown) => {
        const place = args.placeName ?? undefined;
        return follow(
          ctx,
          args.afterSeq,
          (principal) => {
            if (place !== undefined) assertId('placeName', place);
            return workflowFilter(principal, args.workflowId);
          },
          (frame, n, tenant) =>
            place === undefined || touches(frame.event, place)
              ? tokenEventOf(frame, n, tenant)
              : null,
        );
      },
      resolve: (payload: TokenEventPayload) => payload,
    },
  };

  /** As the SSE workflow route: the workflow must exist in the principal's (visible) tenant. */
  async function workflowFilter(principal: Principal, workflowId: string): Promise<string> {
    assertId('workflowId', workflowId);
    const tenant =
      principal.workflows !== undefined && !principal.workflows.includes(workflowId)
        ? HIDDEN_TENANT
        : principal.tenant;
    await reads.workflow(tenant, workflowId);
    return naming.workflowTokensFilter(tenant, workflowId);
  }
}

/** A place's events: tokens that are in it after the event, or left it by it. */
function touches(event: CbTokenEvent, place: string): boolean {
  return (
    event.state.place === place || (event.type === 'token.transitioned.v1' && event.from === place)
  );
}

function tokenEventOf(frame: LiveFrame, naming: Naming, tenant: string): TokenEventPayload {
  const event = frame.event;
  const subject = naming.tokenSubject(tenant, event.workflowId, event.tokenId);
  return {
    eventType: event.type,
    token: toGqlToken(toToken(event.state, frame.seq), subject),
    timestamp: event.occurredAt,
    source: sourceOf(event),
    seq: frame.seq,
  };
}

function workflowEventOf(frame: LiveFrame): WorkflowEventPayload {
  const event = frame.event;
  return {
    eventType: event.type,
    workflowId: event.workflowId,
    data: event,
    timestamp: event.occurredAt,
    seq: frame.seq,
  };
}

/** Who caused the event: its free-form `triggeredBy`, else the key that sent the command. */
function sourceOf(event: CbTokenEvent): string {
  const by = event.triggeredBy as unknown;
  if (typeof by === 'string') return by;
  if (by && typeof by === 'object' && 'id' in by && typeof by.id === 'string') return by.id;
  return event.principal?.keyId ?? 'circuit-breaker';
}

function assertId(name: string, value: string): void {
  if (!ID.test(value)) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `${name} must be 1-64 characters of A-Z, a-z, 0-9, _ or -`,
      { errors: [{ path: name, message: 'is not a valid id' }] },
    );
  }
}

function liveContextOf(ctx: unknown): LiveContext {
  const c = ctx as Partial<LiveContext> | undefined;
  if (!c?.principal || !(c.liveConnection instanceof LiveConnection)) {
    throw new ApiError(
      'UNAUTHENTICATED',
      'subscriptions need connection_init { authorization: "Bearer <credential>" }',
    );
  }
  return c as LiveContext;
}

/** Our codes in `extensions.code` (details as extensions), never a stack trace. */
function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof ApiError) {
    return new GraphQLError(err.message, { extensions: { code: err.code, ...err.details } });
  }
  return new GraphQLError('the subscription could not be started; retry shortly', {
    extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 },
  });
}

import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import type { Logger } from '@cb/logging';
import type { Principal, RateLimitSetting, Session, SessionRecord } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { AuthBuckets } from './buckets';
import { BucketWatch } from './bucket-watch';
import {
  digestsEqual,
  hashSecret,
  mintSessionToken,
  parseAuthorization,
  parseCredential,
  sessionDigest,
} from './credentials';
import { AuthError, unavailableOnOutage } from './errors';
import { KeyStore } from './key-store';
import { authMetrics, type AuthMetrics } from './metrics';
import { ROOT_PRINCIPAL, RootCredential } from './root-credential';
import { SessionStore } from './session-store';

/** Why a credential was refused (for metrics and logs; the HTTP answer is always the same 401). */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

export interface AuthSuccess {
  ok: true;
  /** Frozen and shared between requests: never mutate it. */
  principal: Principal;
  /** The key's own rate limit; absent: the default applies (root: not limited). */
  rateLimit?: RateLimitSetting;
  /** When the credential stops working (a session's end, a key's expiry); absent: never. */
  expiresAt?: string;
}

export type AuthResult = AuthSuccess | { ok: false; reason: AuthFailureReason };

/** The longest a validated credential is trusted from memory. */
export const MAX_CACHE_TTL_MS = 15 * 60_000;

export interface AuthenticatorOptions {
  buckets: Pick<AuthBuckets, 'keys' | 'sessions'>;
  naming: Naming;
  logger: Logger;
  /** CB_ADMIN_KEY; absent: only stored keys and their sessions authenticate. */
  adminKey?: string;
  /** CB_KEY_PEPPER: key secrets are stored as HMAC-SHA256(pepper, secret), else SHA-256. */
  pepper?: string;
  /** SESSION_TTL_S: lifetime of a new session (capped by its key's expiry). */
  sessionTtlSeconds: number;
  /** How long a validated credential is served from memory; at most 15 min (default). */
  cacheTtlMs?: number;
  /** Entries per cache (keys, sessions) at most (default 10,000). */
  cacheMaxEntries?: number;
  /** How often the bucket watches are proven current (default 500 ms; see BucketWatch). */
  probeIntervalMs?: number;
  registry?: Registry;
  now?: () => number;
}

interface KeyEntry {
  id: string;
  hash: string;
  principal: Principal;
  rateLimit?: RateLimitSetting;
  expiresAtMs: number;
  revoked: boolean;
  cachedAt: number;
}

type SessionEntry =
  | {
      ok: true;
      keyId: string;
      principal: Principal;
      rateLimit?: RateLimitSetting;
      expiresAtMs: number;
      cachedAt: number;
    }
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

interface Lookup<T> {
  promise: Promise<T>;
  /** A change of the record arrived while it was being read: use the result, do not cache it. */
  stale: boolean;
}

/**
 * Resolves `Authorization: Bearer <credential>` to a Principal, for a Fastify onRequest hook:
 *
 * - parse strictly (scheme, length, alphabet) before any lookup;
 * - the root credential (CB_ADMIN_KEY) is compared in constant time, in memory;
 * - an API key `cb_<id>_<secret>`: its record by id (memory, else one KV get), then the secret's
 *   hash compared in constant time, then revocation and expiry;
 * - a session `cbs_…`: its record by the token's SHA-256 (memory, else one KV get) and its key's
 *   record (a session dies with its key), then expiry.
 *
 * Validated records are cached (LRU, at most `cacheTtlMs`, 15 min), one cache for keys and one for
 * sessions, so sessions never push keys out. Only what a real record says is cached: a credential
 * that matches nothing is never remembered, so random credentials cannot evict anything (their
 * cost is one KV get each, with the per-address slow-down on top). Expiry is checked on every
 * hit; revocation, deletion and any other change reach every gateway through one watch per
 * bucket, trusted only while proven current (BucketWatch); an untrusted watch means no cache.
 *
 * NATS failing a lookup throws AuthError `UNAVAILABLE` (503), never a 401.
 */
export class Authenticator {
  private readonly keys: KeyStore;
  private readonly sessions: SessionStore;
  private readonly keyCache: LRUCache<string, KeyEntry>;
  private readonly sessionCache: LRUCache<string, Extract<SessionEntry, { ok: true }>>;
  private readonly keyLookups = new Map<string, Lookup<KeyEntry | null>>();
  private readonly sessionLookups = new Map<string, Lookup<SessionEntry>>();
  private readonly keyWatch: BucketWatch;
  private readonly sessionWatch: BucketWatch;
  private readonly root: RootCredential | undefined;
  private readonly cacheTtlMs: number;
  private readonly metrics: AuthMetrics | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    const { buckets, naming, logger } = options;
    this.now = options.now ?? Date.now;
    this.root = options.adminKey !== undefined ? new RootCredential(options.adminKey) : undefined;
    this.cacheTtlMs = Math.min(options.cacheTtlMs ?? MAX_CACHE_TTL_MS, MAX_CACHE_TTL_MS);
    const max = Math.max(1, options.cacheMaxEntries ?? 10_000);
    this.keyCache = new LRUCache({ max });
    this.sessionCache = new LRUCache({ max });
    this.metrics = options.registry ? authMetrics(options.registry) : undefined;
    const invalid = (what: string) => (id: string) =>
      logger.warn({ [what]: id }, `${what} record does not match its schema; treated as absent`);
    this.keys = new KeyStore(buckets.keys, naming, invalid('keyId'));
    this.sessions = new SessionStore(buckets.sessions, naming, invalid('sessionId'));
    const watch = { logger, probeIntervalMs: options.probeIntervalMs, now: this.now };
    this.keyWatch = new BucketWatch({
      ...watch,
      kv: buckets.keys,
      name: naming.keysBucket,
      onChange: (id) => this.keyChanged(id),
      onReset: () => this.reset(),
    });
    this.sessionWatch = new BucketWatch({
      ...watch,
      kv: buckets.sessions,
      name: naming.sessionsBucket,
      onChange: (digest) => this.sessionChanged(digest),
      onReset: () => this.reset(),
    });
    if (!this.root) logger.info('CB_ADMIN_KEY not set: only stored API keys authenticate');
  }

  /** Start the watches; resolves once both are established (or failed a first time, retrying). */
  async start(): Promise<void> {
    await Promise.all([this.keyWatch.start(), this.sessionWatch.start()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.keyWatch.stop(), this.sessionWatch.stop()]);
    this.reset();
  }

  /** Whether revocations are known to reach this instance in time (else nothing is cached). */
  get watching(): boolean {
    return this.keyWatch.trusted && this.sessionWatch.trusted;
  }

  /** Whether a root credential is configured. */
  get hasRoot(): boolean {
    return this.root !== undefined;
  }

  async authenticate(header: string | string[] | undefined): Promise<AuthResult> {
    const result = await this.resolve(header);
    if (!result.ok) this.metrics?.failures.inc({ reason: result.reason });
    return result;
  }

  /**
   * A new session for what `auth` authenticated (an API key or the root credential): same tenant,
   * scopes and workflows, ending after SESSION_TTL_S or when its key expires, whichever is first.
   */
  async createSession(auth: AuthSuccess): Promise<{ session: Session; sessionId: string }> {
    const { principal } = auth;
    if (principal.sessionId !== undefined) {
      throw new AuthError('SESSION_FROM_SESSION', 'a session cannot create a session');
    }
    const now = this.now();
    const keyEnd = auth.expiresAt !== undefined ? Date.parse(auth.expiresAt) : Infinity;
    const expiresAt = new Date(Math.min(now + this.options.sessionTtlSeconds * 1000, keyEnd));
    const record: SessionRecord = {
      tenant: principal.tenant,
      keyId: principal.keyId,
      scopes: [...principal.scopes],
      ...(principal.workflows ? { workflows: [...principal.workflows] } : {}),
      expiresAt: expiresAt.toISOString(),
      createdAt: new Date(now).toISOString(),
      ...(principal.root && this.root ? { root: true as const, rootTag: this.root.tag } : {}),
    };
    const token = mintSessionToken();
    const sessionId = sessionDigest(token);
    await unavailableOnOutage('session write', () => this.sessions.create(sessionId, record));
    return {
      session: {
        session: token,
        expiresAt: record.expiresAt,
        tenant: record.tenant,
        scopes: record.scopes,
      },
      sessionId,
    };
  }

  /** End a session: refused here at once, by every other gateway once its watch sees it. */
  async revokeSession(sessionId: string): Promise<void> {
    this.sessionChanged(sessionId);
    await unavailableOnOutage('session delete', () => this.sessions.delete(sessionId));
    this.sessionChanged(sessionId);
  }

  private async resolve(header: string | string[] | undefined): Promise<AuthResult> {
    const parsed = parseAuthorization(header);
    if (!parsed.ok) return parsed;
    if (this.root?.matches(parsed.credential)) return { ok: true, principal: ROOT_PRINCIPAL };
    const credential = parseCredential(parsed.credential);
    if (!credential) return { ok: false, reason: 'malformed' };
    const now = this.now();
    switch (credential.kind) {
      case 'other':
        return { ok: false, reason: 'unknown' };
      case 'key': {
        const entry = await this.keyEntry(credential.id);
        if (!entry || !digestsEqual(hashSecret(credential.secret, this.options.pepper), entry.hash))
          return { ok: false, reason: 'unknown' };
        if (entry.revoked) return { ok: false, reason: 'revoked' };
        if (entry.expiresAtMs <= now) return { ok: false, reason: 'expired' };
        return success(entry.principal, entry.rateLimit, entry.expiresAtMs);
      }
      case 'session': {
        const entry = await this.sessionEntry(sessionDigest(credential.token));
        if (!entry.ok) return entry;
        if (entry.expiresAtMs <= now) return { ok: false, reason: 'expired' };
        return success(entry.principal, entry.rateLimit, entry.expiresAtMs);
      }
    }
  }

  private async keyEntry(id: string): Promise<KeyEntry | null> {
    const cached = this.fresh(this.keyCache.get(id), this.keyWatch.trusted);
    this.metrics?.cache.inc({ kind: 'key', result: cached ? 'hit' : 'miss' });
    if (cached) return cached;
    return this.singleFlight(
      this.keyLookups,
      id,
      () => this.readKey(id),
      (entry, lookup) => {
        if (entry && !lookup.stale && this.keyWatch.trusted) this.keyCache.set(id, entry);
      },
    );
  }

  private async readKey(id: string): Promise<KeyEntry | null> {
    const stored = await unavailableOnOutage('key lookup', () => this.keys.get(id));
    if (!stored) return null;
    const r = stored.record;
    const principal: Principal = Object.freeze({
      tenant: r.tenant,
      keyId: r.id,
      scopes: Object.freeze([...r.scopes]) as Principal['scopes'],
      ...(r.workflows ? { workflows: Object.freeze([...r.workflows]) as string[] } : {}),
    });
    return {
      id,
      hash: r.hash,
      principal,
      ...(r.rateLimit ? { rateLimit: Object.freeze({ ...r.rateLimit }) } : {}),
      expiresAtMs: r.expiresAt !== undefined ? Date.parse(r.expiresAt) : Infinity,
      revoked: r.revokedAt !== undefined,
      cachedAt: this.now(),
    };
  }

  private async sessionEntry(digest: string): Promise<SessionEntry> {
    const cached = this.fresh(this.sessionCache.get(digest), this.watching);
    this.metrics?.cache.inc({ kind: 'session', result: cached ? 'hit' : 'miss' });
    if (cached) return cached;
    let basedOn: KeyEntry | null = null;
    return this.singleFlight(
      this.sessionLookups,
      digest,
      async () => {
        const r = await unavailableOnOutage('session lookup', () => this.sessions.get(digest));
        if (!r) return { ok: false, reason: 'unknown' } as const;
        const sessionEnd = Date.parse(r.expiresAt);
        if (r.root) {
          const current =
            this.root !== undefined && r.keyId === 'root' && r.rootTag === this.root.tag;
          if (!current) return { ok: false, reason: 'revoked' } as const;
          return sessionOf(digest, 'root', ROOT_PRINCIPAL, undefined, sessionEnd, this.now());
        }
        const key = await this.keyEntry(r.keyId);
        if (!key || key.revoked || key.principal.tenant !== r.tenant) {
          return { ok: false, reason: 'revoked' } as const;
        }
        if (key.expiresAtMs <= this.now()) return { ok: false, reason: 'expired' } as const;
        basedOn = key;
        const principal: Principal = {
          tenant: r.tenant,
          keyId: r.keyId,
          scopes: r.scopes,
          ...(r.workflows ? { workflows: r.workflows } : {}),
        };
        const end = Math.min(sessionEnd, key.expiresAtMs);
        return sessionOf(digest, r.keyId, principal, key.rateLimit, end, this.now());
      },
      (entry, lookup) => {
        if (!entry.ok || lookup.stale || !this.watching) return;
        // The key it rests on must still be the cached one (not changed meanwhile).
        if (basedOn !== null && this.keyCache.peek(entry.keyId) !== basedOn) return;
        this.sessionCache.set(digest, entry);
      },
    );
  }

  private fresh<T extends { cachedAt: number }>(entry: T | undefined, trusted: boolean) {
    if (!entry || !trusted) return undefined;
    return this.now() - entry.cachedAt < this.cacheTtlMs ? entry : undefined;
  }

  /** One read per record at a time; `done` decides whether its result may be cached. */
  private singleFlight<T>(
    lookups: Map<string, Lookup<T>>,
    id: string,
    read: () => Promise<T>,
    done: (value: T, lookup: Lookup<T>) => void,
  ): Promise<T> {
    const running = lookups.get(id);
    if (running) return running.promise;
    const lookup: Lookup<T> = { promise: undefined as unknown as Promise<T>, stale: false };
    lookup.promise = read()
      .then((value) => {
        done(value, lookup);
        return value;
      })
      .finally(() => lookups.delete(id));
    lookups.set(id, lookup);
    return lookup.promise;
  }

  private keyChanged(id: string): void {
    this.keyCache.delete(id);
    const lookup = this.keyLookups.get(id);
    if (lookup) lookup.stale = true;
    // A session rests on its key: drop the sessions of a changed key.
    for (const [digest, entry] of this.sessionCache.entries()) {
      if (entry.keyId === id) this.sessionCache.delete(digest);
    }
  }

  private sessionChanged(digest: string): void {
    this.sessionCache.delete(digest);
    const lookup = this.sessionLookups.get(digest);
    if (lookup) lookup.stale = true;
  }

  private reset(): void {
    this.keyCache.clear();
    this.sessionCache.clear();
    for (const lookup of this.keyLookups.values()) lookup.stale = true;
    for (const lookup of this.sessionLookups.values()) lookup.stale = true;
  }
}

function success(
  principal: Principal,
  rateLimit: RateLimitSetting | undefined,
  expiresAtMs: number,
): AuthSuccess {
  return {
    ok: true,
    principal,
    ...(rateLimit ? { rateLimit } : {}),
    ...(Number.isFinite(expiresAtMs) ? { expiresAt: new Date(expiresAtMs).toISOString() } : {}),
  };
}

function sessionOf(
  digest: string,
  keyId: string,
  principal: Principal,
  rateLimit: RateLimitSetting | undefined,
  expiresAtMs: number,
  now: number,
): SessionEntry {
  return {
    ok: true,
    keyId,
    principal: deepFreeze({ ...principal, sessionId: digest }),
    ...(rateLimit ? { rateLimit } : {}),
    expiresAtMs,
    cachedAt: now,
  };
}

function deepFreeze(p: Principal): Principal {
  return Object.freeze({
    ...p,
    scopes: Object.freeze([...p.scopes]) as Principal['scopes'],
    ...(p.workflows ? { workflows: Object.freeze([...p.workflows]) as string[] } : {}),
  });
}

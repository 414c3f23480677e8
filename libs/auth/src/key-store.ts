import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import { ApiKeyRecord, compileValidator, type ApiKey } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { AuthError } from './errors';

const validRecord = compileValidator(ApiKeyRecord);

export interface StoredKey {
  record: ApiKeyRecord;
  revision: number;
}

/**
 * The keys bucket: API-key records by key id. Gateways read it; the key projection (and tests)
 * write it with `put`. A record that does not match ApiKeyRecord reads as absent and is reported
 * through `onInvalid`.
 */
export class KeyStore {
  constructor(
    private readonly kv: KV,
    private readonly naming: Naming,
    private readonly onInvalid: (id: string) => void = () => undefined,
  ) {}

  async get(id: string): Promise<StoredKey | null> {
    const entry = await this.kv.get(this.naming.apiKeyRecordKey(id));
    if (!entry || entry.operation !== 'PUT') return null;
    const record = decodeJson(entry.value);
    if (!validRecord.check(record) || record.id !== id) {
      this.onInvalid(id);
      return null;
    }
    return { record, revision: entry.revision };
  }

  /**
   * Write a record (validated first). With `expectedRevision` (0: must not exist) the write is a
   * compare-and-set and fails if the record moved on.
   */
  async put(record: ApiKeyRecord, expectedRevision?: number): Promise<number> {
    if (!validRecord.check(record)) {
      const issues = validRecord.errors(record, 5).map((i) => `${i.path} ${i.message}`);
      throw new AuthError('INVALID_RECORD', `not an API key record: ${issues.join('; ')}`);
    }
    const key = this.naming.apiKeyRecordKey(record.id);
    const value = encodeJson(record);
    if (expectedRevision === undefined) return this.kv.put(key, value);
    return expectedRevision === 0
      ? this.kv.create(key, value)
      : this.kv.update(key, value, expectedRevision);
  }

  /** Mark a key revoked (compare-and-set, retried on races); null when there is no such key. */
  async revoke(id: string, revokedAt: string): Promise<ApiKeyRecord | null> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.get(id);
      if (!stored) return null;
      if (stored.record.revokedAt) return stored.record;
      const record: ApiKeyRecord = { ...stored.record, revokedAt };
      try {
        await this.put(record, stored.revision);
        return record;
      } catch (err) {
        if (attempt >= 4) throw err;
      }
    }
  }

  async delete(id: string): Promise<void> {
    await this.kv.delete(this.naming.apiKeyRecordKey(id));
  }

  /**
   * Every record, optionally of one tenant, by id. One pass over the bucket (one short-lived
   * ordered consumer): for the admin listing, not for request paths.
   */
  async list(filter: { tenant?: string } = {}): Promise<ApiKeyRecord[]> {
    const latest = new Map<string, ApiKeyRecord | null>();
    const iter = await this.kv.history();
    for await (const e of iter) {
      const record = e.operation === 'PUT' ? decodeJson(e.value) : undefined;
      latest.set(e.key, validRecord.check(record) && record.id === e.key ? record : null);
    }
    return [...latest.values()]
      .filter((r): r is ApiKeyRecord => r !== null)
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** A record as the API shows it: without its hash. */
export function toApiKey(record: ApiKeyRecord): ApiKey {
  const { hash: _hash, ...key } = record;
  return key;
}

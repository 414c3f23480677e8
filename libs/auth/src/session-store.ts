import type { KV } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import { SessionRecord, compileValidator } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

const validRecord = compileValidator(SessionRecord);

/** The sessions bucket: records by the SHA-256 hex of the session token (never the token). */
export class SessionStore {
  constructor(
    private readonly kv: KV,
    private readonly naming: Naming,
    private readonly onInvalid: (digest: string) => void = () => undefined,
  ) {}

  async get(digest: string): Promise<SessionRecord | null> {
    const entry = await this.kv.get(this.naming.sessionRecordKey(digest));
    if (!entry || entry.operation !== 'PUT') return null;
    const record = decodeJson(entry.value);
    if (!validRecord.check(record)) {
      this.onInvalid(digest);
      return null;
    }
    return record;
  }

  /** Store a new session (create: a digest is never overwritten). */
  async create(digest: string, record: SessionRecord): Promise<void> {
    await this.kv.create(this.naming.sessionRecordKey(digest), encodeJson(record));
  }

  /** End a session: a delete marker, which every gateway's watch sees. */
  async delete(digest: string): Promise<void> {
    await this.kv.delete(this.naming.sessionRecordKey(digest));
  }
}

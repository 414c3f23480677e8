/** What a node's `/healthz` says (nats-server 2.9+: JetStream current with its meta leader, and every stream and consumer it hosts current). */
export interface NodeHealth {
  readonly ok: boolean;
  /** Why not, in the server's words (or the HTTP failure). */
  readonly error?: string;
}

/** The parts of a node's `/jsz` we read. */
export interface JetStreamSummary {
  readonly streams: number;
  readonly consumers: number;
  readonly messages: number;
  readonly meta_cluster?: { readonly leader?: string; readonly cluster_size?: number };
  readonly account_details?: ReadonlyArray<{
    readonly name: string;
    readonly stream_detail?: ReadonlyArray<{
      readonly name: string;
      readonly state: {
        readonly messages: number;
        readonly last_seq: number;
        readonly consumer_count: number;
      };
      readonly cluster?: { readonly leader?: string };
    }>;
  }>;
}

const MAX_BODY_CHARS = 4 * 1024 * 1024;

async function get(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (text.length > MAX_BODY_CHARS) throw new Error(`${url} answered more than 4 MiB`);
  return { status: res.status, text };
}

/** `/healthz` of the node whose monitoring endpoint is `monitorUrl`. */
export async function nodeHealth(monitorUrl: string, timeoutMs = 1000): Promise<NodeHealth> {
  try {
    const { status, text } = await get(`${monitorUrl}/healthz`, timeoutMs);
    if (status === 200) return { ok: true };
    const body = JSON.parse(text) as { error?: unknown };
    return { ok: false, error: typeof body.error === 'string' ? body.error : `HTTP ${status}` };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** `/jsz` of one node: with `streams`, the state of each stream replica it holds. */
export async function jetStreamSummary(
  monitorUrl: string,
  options: { streams?: boolean } = {},
  timeoutMs = 2000,
): Promise<JetStreamSummary> {
  const query = options.streams ? '?accounts=true&streams=true' : '';
  const { status, text } = await get(`${monitorUrl}/jsz${query}`, timeoutMs);
  if (status !== 200) throw new Error(`${monitorUrl}/jsz answered ${status}`);
  return JSON.parse(text) as JetStreamSummary;
}

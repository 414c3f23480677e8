import { kvStreamName, kvSubjectPrefix } from '@cb/subjects';
import { type JetStreamClient, type JetStreamManager, DeliverPolicy } from '@nats-io/jetstream';

/**
 * Every live key of a KV bucket with its JSON value, read with one ordered consumer over the
 * bucket's subjects (last value per key; deleted keys left out).
 */
export async function readBucket(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
): Promise<Map<string, unknown>> {
  const stream = kvStreamName(bucket);
  const prefix = kvSubjectPrefix(bucket);
  const out = new Map<string, unknown>();
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return out;
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subjects: `${prefix}>`, // a string: arrays need nats-server 2.10
  });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const op = m.headers?.get('KV-Operation');
    const key = m.subject.slice(prefix.length);
    if (op === 'DEL' || op === 'PURGE') out.delete(key);
    else out.set(key, JSON.parse(new TextDecoder().decode(m.data)));
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/**
 * The JetStream wire spelling: KV buckets (`KV_<bucket>` streams, `$KV.<bucket>.<key>` subjects)
 * and the JetStream API (`$JS.API.…`). Outside libs/subjects and libs/nats nothing spells these:
 * call these functions (a test greps the tree for the spelling).
 */

/** The stream that holds a KV bucket. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** What every subject of a bucket starts with (its keys follow). */
export function kvSubjectPrefix(bucket: string): string {
  return `$KV.${bucket}.`;
}

/** The subject of a bucket's key or key filter (`*` and `>` allowed in `key`). */
export function kvSubject(bucket: string, key: string): string {
  return `${kvSubjectPrefix(bucket)}${key}`;
}

/** The key of a message of a bucket's stream, or null when the subject is not the bucket's. */
export function kvKeyOf(bucket: string, subject: string): string | null {
  const prefix = kvSubjectPrefix(bucket);
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : null;
}

/** Every JetStream API subject starts with it. */
export const JS_API = '$JS.API';

/** `$JS.API.STREAM.INFO.<stream>`: the stream's configuration and state (answered by its leader). */
export function jsApiStreamInfo(stream: string): string {
  return `${JS_API}.STREAM.INFO.${stream}`;
}

/** `$JS.API.DIRECT.GET.<stream>[.<subject>]`: a direct get (the last message on `subject`). */
export function jsApiDirectGet(stream: string, lastBySubject?: string): string {
  const base = `${JS_API}.DIRECT.GET.${stream}`;
  return lastBySubject === undefined ? base : `${base}.${lastBySubject}`;
}

/** `$JS.API.STREAM.MSG.GET.<stream>`: a message get answered by the stream's leader only. */
export function jsApiStreamMsgGet(stream: string): string {
  return `${JS_API}.STREAM.MSG.GET.${stream}`;
}

/** `$JS.API.CONSUMER.CREATE.<stream>[.<rest>]` (`rest`: a consumer name and filter, or `>`). */
export function jsApiConsumerCreate(stream: string, rest?: string): string {
  const base = `${JS_API}.CONSUMER.CREATE.${stream}`;
  return rest === undefined ? base : `${base}.${rest}`;
}

/** `$JS.API.CONSUMER.DELETE.<stream>.<consumer>`. */
export function jsApiConsumerDelete(stream: string, consumer: string): string {
  return `${JS_API}.CONSUMER.DELETE.${stream}.${consumer}`;
}

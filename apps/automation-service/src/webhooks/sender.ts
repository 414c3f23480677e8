import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkTargetUrl, guardedLookup, OutboundRefusedError } from '@cb/ops';
import type { SignedDelivery } from './signer';

/** The part of a response that is read (then dropped): enough to drain a small answer. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** `WebhookDelivery.error` is at most this long. */
export const MAX_ERROR_LENGTH = 300;

export interface SendOptions {
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS */
  allowPrivate: boolean;
}

export type SendResult =
  | { outcome: 'delivered'; status: number; durationMs: number }
  | { outcome: 'failed'; status?: number; error: string; durationMs: number }
  | { outcome: 'refused'; error: string; durationMs: number };

/**
 * One delivery attempt: POST the signed body to `url`. The target is checked again first (a
 * registration's DNS answer proves nothing today) and the connection goes through the guarded
 * lookup, so the address connected to is the one checked. 2xx is delivered; any other status,
 * a redirect (never followed), a network error or the total timeout (connect, send and response)
 * is failed; a blocked target is refused. Never throws.
 */
export async function sendWebhook(
  url: string,
  delivery: SignedDelivery,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const check = await checkTargetUrl(url, { allowPrivate: options.allowPrivate });
  if (!check.ok) return { outcome: 'refused', error: clip(check.reason), durationMs: elapsed() };
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(delivery.body);

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(target, {
      method: 'POST',
      headers: { ...delivery.headers, 'content-length': String(body.length) },
      // No pooled sockets: every attempt resolves (and checks) the host again.
      agent: false,
      lookup: guardedLookup(options.allowPrivate),
    });
    const timer = setTimeout(
      () =>
        finish({
          outcome: 'failed',
          error: `timed out after ${options.timeoutMs} ms`,
          durationMs: elapsed(),
        }),
      options.timeoutMs,
    );
    req.on('error', (err) => {
      if (err instanceof OutboundRefusedError) {
        finish({ outcome: 'refused', error: clip(err.message), durationMs: elapsed() });
      } else {
        finish({ outcome: 'failed', error: clip(describe(err)), durationMs: elapsed() });
      }
    });
    req.on('response', (res) => {
      drainBounded(res, () => finish(resultOf(res, elapsed())));
    });
    req.end(body);
  });
}

function resultOf(res: IncomingMessage, durationMs: number): SendResult {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { outcome: 'delivered', status, durationMs };
  if (status >= 300 && status < 400) {
    return {
      outcome: 'failed',
      status,
      error: `HTTP ${status}: redirects are not followed`,
      durationMs,
    };
  }
  return { outcome: 'failed', status, error: `HTTP ${status}`, durationMs };
}

/** Reads at most MAX_RESPONSE_BYTES of the response, then calls `done` (the rest is never read). */
function drainBounded(res: IncomingMessage, done: () => void): void {
  let read = 0;
  res.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read >= MAX_RESPONSE_BYTES) done();
  });
  res.on('end', done);
  res.on('error', done);
  res.on('aborted', done);
}

function describe(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code)
    ? `${code}: ${err.message}`
    : err.message;
}

function clip(text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

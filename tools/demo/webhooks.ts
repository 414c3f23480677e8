import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { CbClient } from '@cb/client';
import { describe, problem, problemOf, replyOf } from './gateway';
import { bold, dim, green, heading, yellow } from './output';

/** The largest delivery the demo's receiver reads (a token event is far smaller). */
const MAX_BODY_BYTES = 256 * 1024;

export interface Received {
  id: string;
  type: string;
  seq: number;
  tokenId: string;
  verified: boolean;
}

/**
 * A local receiver for the demo's webhook: it verifies every delivery's Standard Webhooks
 * signature with the `standardwebhooks` package, as a real receiver would, and answers 204.
 */
export class DemoReceiver {
  readonly received: Received[] = [];
  private secret: string | null = null;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      void readBody(req).then(
        (body) => {
          this.record(req, body);
          res.writeHead(204).end();
        },
        () => res.writeHead(413).end(),
      );
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/cb-events`;
  }

  useSecret(secret: string): void {
    this.secret = secret;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(req: IncomingMessage, body: string): void {
    let verified = false;
    try {
      if (this.secret !== null) {
        new Webhook(this.secret).verify(body, {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        });
        verified = true;
      }
    } catch {
      verified = false;
    }
    try {
      const parsed = JSON.parse(body) as { seq: number; event: { type: string; tokenId: string } };
      this.received.push({
        id: String(req.headers['webhook-id'] ?? ''),
        type: parsed.event.type,
        seq: parsed.seq,
        tokenId: parsed.event.tokenId,
        verified,
      });
    } catch {
      this.received.push({ id: '', type: '(not JSON)', seq: 0, tokenId: '', verified });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error('too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Registers a webhook for `workflowId` pointing at the demo's receiver. The gateway refuses a
 * loopback target unless it runs with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (the default protects
 * internal services from tenants' URLs): the demo then shows that refusal and goes on.
 */
export async function registerDemoWebhook(
  client: CbClient,
  receiver: DemoReceiver,
  workflowId: string,
): Promise<string | null> {
  heading('Webhooks');
  const url = await receiver.listen();
  const body = { url, workflowId, description: 'npm run demo receiver' };
  const created = await client.POST('/v1/webhooks', { body });
  if (created.data) {
    receiver.useSecret(created.data.secret);
    console.log(
      `  ${bold(created.data.id)} → ${url} ${dim(`(secret ${created.data.secret.slice(0, 10)}…, shown once)`)}`,
    );
    return created.data.id;
  }
  if (problemOf(created)?.code === 'WEBHOOK_TARGET_REFUSED') {
    console.log(
      `  ${yellow('refused')} ${url}: ${problemOf(created)?.detail ?? ''} ${dim('(WEBHOOK_TARGET_REFUSED, the default)')}`,
    );
    console.log(
      dim(
        '  a loopback receiver needs the stack started with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true npm start',
      ),
    );
    return null;
  }
  problem(
    'registering the demo webhook failed',
    describe('POST', '/v1/webhooks', body),
    replyOf(created),
  );
  return null;
}

/** Waits for the deliveries of `tokenId`'s events, shows them with their signature check. */
export async function showDeliveries(
  client: CbClient,
  receiver: DemoReceiver,
  webhookId: string,
  tokenId: string,
  expected: number,
  waitMs: number,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  const mine = (): Received[] => receiver.received.filter((r) => r.tokenId === tokenId);
  while (mine().length < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const r of mine()) {
    const check = r.verified ? green('signature valid') : yellow('signature INVALID');
    console.log(`  received ${bold(r.type)} seq ${r.seq} ${dim(`webhook-id ${r.id}`)} ${check}`);
  }
  const got = mine();
  if (got.length < expected || got.some((r) => !r.verified)) {
    problem(
      `the webhook ${webhookId} delivered ${got.length} of ${expected} events of ${tokenId} (${got.filter((r) => r.verified).length} verified) within ${waitMs / 1000} s (is an automation worker running?)`,
      describe('GET', `/v1/webhooks/${webhookId}/deliveries`),
      replyOf(
        await client.GET('/v1/webhooks/{webhookId}/deliveries', {
          params: { path: { webhookId } },
        }),
      ),
    );
  }
  const deleted = await client.DELETE('/v1/webhooks/{webhookId}', {
    params: { path: { webhookId } },
  });
  if (deleted.response.status !== 204) {
    problem(
      `deleting the demo webhook ${webhookId} failed`,
      describe('DELETE', `/v1/webhooks/${webhookId}`),
      replyOf(deleted),
    );
  }
}

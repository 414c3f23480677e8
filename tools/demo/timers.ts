import type { CbClient } from '@cb/client';
import { describe, problem, problemOf, replyOf } from './gateway';
import { bold, dim, green, heading } from './output';
import { DemoReceiver, registerDemoWebhook, showDeliveries } from './webhooks';

const WORKFLOW = 'demo_reminder';
/** How long the demo waits for the timer (due after 2 s) before it calls it a problem. */
const WAIT_MS = 10_000;

/**
 * A timed transition at work: a token whose `remind` fires by itself 2 s after it entered
 * `open`, shown pending on the token read, then fired by the automation worker as the system;
 * and a webhook on the workflow receiving both of the token's events, signed.
 */
export async function showTimer(client: CbClient, runId: string): Promise<void> {
  const receiver = new DemoReceiver();
  try {
    await showTimerAndWebhook(client, runId, receiver);
  } finally {
    await receiver.close();
  }
}

async function showTimerAndWebhook(
  client: CbClient,
  runId: string,
  receiver: DemoReceiver,
): Promise<void> {
  const defined = await client.POST('/v1/workflows', {
    body: {
      id: WORKFLOW,
      name: 'Demo reminder',
      places: ['open', 'reminded'],
      initialPlace: 'open',
      finalPlaces: ['reminded'],
      transitions: [{ id: 'remind', from: ['open'], to: 'reminded', after: 'PT2S' }],
    },
  });
  if (defined.response.status !== 201 && problemOf(defined)?.code !== 'WORKFLOW_EXISTS') {
    problem(`defining ${WORKFLOW} failed`, describe('POST', '/v1/workflows'), replyOf(defined));
    return;
  }
  const webhookId = await registerDemoWebhook(client, receiver, WORKFLOW);
  heading('Timers');
  const tokenId = `demo-${runId}-timer`;
  const path = { workflowId: WORKFLOW, tokenId };
  const created = await client.POST('/v1/workflows/{workflowId}/tokens', {
    params: { path: { workflowId: WORKFLOW } },
    body: { id: tokenId },
  });
  if (!created.data) {
    problem('creating the timer token failed', `POST …/${WORKFLOW}/tokens`, replyOf(created));
    return;
  }
  console.log(`  ${bold(tokenId)} in ${bold('open')}; "remind" is due after PT2S`);
  const deadline = Date.now() + WAIT_MS;
  let shownPending = false;
  for (;;) {
    const read = await client.GET('/v1/workflows/{workflowId}/tokens/{tokenId}', {
      params: { path, query: { consistency: 'strong' } },
    });
    const token = read.data;
    if (token?.place === 'reminded') {
      const by = token.lastTransition?.triggeredBy ?? '?';
      console.log(
        `  ${green('fired by itself')}: now in ${bold('reminded')} at ${token.lastTransition?.at ?? '?'} ${dim(`(triggeredBy "${by}")`)}`,
      );
      if (webhookId !== null) {
        heading('Webhook deliveries');
        await showDeliveries(client, receiver, webhookId, tokenId, 2, WAIT_MS);
      }
      return;
    }
    const timer = token?.timers?.[0];
    if (timer && !shownPending) {
      console.log(`  pending on the token read: ${timer.transition} due ${timer.dueAt}`);
      shownPending = true;
    }
    if (Date.now() > deadline) {
      problem(
        `the timer of ${tokenId} did not fire within ${WAIT_MS / 1000} s (is an automation worker running? npm run start:automation)`,
        describe('GET', `/v1/workflows/${WORKFLOW}/tokens/${tokenId}?consistency=strong`),
        replyOf(read),
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

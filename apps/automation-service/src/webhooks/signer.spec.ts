import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signDelivery, USER_AGENT } from './signer';

const secret = `whsec_${randomBytes(24).toString('base64')}`;

describe('signDelivery', () => {
  const event = { type: 'token.created.v1', eventId: 'evt_1', tokenId: 't1' };

  it('signs { seq, event } as Standard Webhooks, verifiable with the standardwebhooks package', () => {
    const at = new Date();
    const { body, headers } = signDelivery(secret, { eventId: 'evt_1', seq: 42, event, at });
    expect(JSON.parse(body)).toEqual({ seq: 42, event });
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    });
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ seq: 42, event });
  });

  it('does not verify with another secret or a changed body', () => {
    const { body, headers } = signDelivery(secret, {
      eventId: 'evt_1',
      seq: 1,
      event,
      at: new Date(),
    });
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('t1', 't2'), headers)).toThrow();
  });

  it('keeps webhook-id across attempts while the timestamp and signature follow the attempt', () => {
    const first = signDelivery(secret, {
      eventId: 'evt_9',
      seq: 9,
      event,
      at: new Date(1_700_000_000_000),
    });
    const again = signDelivery(secret, {
      eventId: 'evt_9',
      seq: 9,
      event,
      at: new Date(1_700_000_060_000),
    });
    expect(again.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(again.body).toBe(first.body);
    expect(again.headers['webhook-timestamp']).toBe('1700000060');
    expect(again.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
  });
});

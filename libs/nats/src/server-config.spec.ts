import { Naming } from '@cb/subjects';
import {
  NATS_USERS,
  natsPermissions,
  natsServerConfig,
  type UserPermissions,
} from './server-config';

const naming = new Naming({ prefix: 'acme-x', stream: 'ACME_EVENTS', partitions: 4 });
const perms = natsPermissions(naming);
const limited = (user: 'command' | 'projection' | 'gateway' | 'automation'): UserPermissions =>
  perms[user] as UserPermissions;

describe('natsPermissions', () => {
  it('builds every subject from the naming', () => {
    const all = ['command', 'projection', 'gateway', 'automation'].flatMap((u) => {
      const p = limited(u as 'command');
      return [...p.publish.allow, ...(p.publish.deny ?? []), ...p.subscribe.allow];
    });
    expect(all.some((s) => /(^|\.)cb[._]/.test(s) || s.includes('CB_EVENTS'))).toBe(false);
    expect(limited('command').publish.allow).toEqual(
      expect.arrayContaining(['acme-x.wf.>', 'acme-x.tok.>', 'acme-x.key.>', 'acme-x.hook.>']),
    );
    expect(limited('command').publish.allow).toContain('$JS.API.STREAM.CREATE.ACME_EVENTS');
    // Only to add a later version's subjects (the webhook registrations) to an older stream.
    expect(limited('command').publish.allow).toContain('$JS.API.STREAM.UPDATE.ACME_EVENTS');
  });

  it('lets only the command service publish events, serve commands and answer requests', () => {
    for (const user of ['projection', 'gateway', 'automation'] as const) {
      const p = limited(user);
      expect(p.publish.allow.filter((s) => /^acme-x\.(wf|tok|key)\./.test(s))).toEqual([]);
      expect(p.subscribe.allow.filter((s) => s.startsWith('acme-x.'))).toEqual([]);
      expect(p.allowResponses).toBeUndefined();
      // `$KV.>` would cover event subjects only if they started with `$KV.`: they do not.
      expect(p.publish.allow).not.toContain('>');
    }
    expect(limited('command').allowResponses).toBe(true);
    expect(limited('command').publish.allow.some((s) => s.startsWith('_INBOX'))).toBe(false);
  });

  it('gives each user its own inbox and nothing else to subscribe to but its work', () => {
    expect(limited('command').subscribe.allow).toEqual([
      'acme-x.cmd.>',
      naming.commandPingSubject,
      '_INBOX_command.>',
    ]);
    expect(limited('projection').subscribe.allow).toEqual(['_INBOX_projection.>']);
    expect(limited('gateway').subscribe.allow).toEqual(['_INBOX_gateway.>']);
  });

  it("keeps read-model writes from the gateway and the gateways' buckets from the projection", () => {
    const gateway = limited('gateway').publish.allow.filter((s) => s.startsWith('$KV.'));
    expect(gateway.sort()).toEqual(['$KV.acme-x_ratelimit.>', '$KV.acme-x_sessions.>']);
    expect(limited('projection').publish.deny).toEqual(
      expect.arrayContaining([
        '$KV.acme-x_sessions.>',
        '$KV.acme-x_ratelimit.>',
        '$KV.acme-x_idempotency.>',
      ]),
    );
  });

  it('lets the automation fire transitions, log deliveries and write its own buckets only', () => {
    const automation = limited('automation');
    expect(automation.publish.allow.filter((s) => s.startsWith('acme-x.'))).toEqual([
      'acme-x.cmd.*.token.fire',
      'acme-x.whd.>',
      'acme-x.dlq.whk.>',
    ]);
    expect(automation.publish.allow.filter((s) => s.startsWith('$KV.')).sort()).toEqual([
      '$KV.acme-x_automation.>',
      '$KV.acme-x_timers.>',
      '$KV.acme-x_webhook_status.>',
    ]);
    expect(automation.publish.allow).toEqual(
      expect.arrayContaining([
        '$JS.API.CONSUMER.DURABLE.CREATE.ACME_EVENTS.*',
        '$JS.API.CONSUMER.DELETE.*.*',
        '$JS.API.STREAM.CREATE.ACME_EVENTS_DELIVERIES',
        '$JS.API.STREAM.CREATE.KV_acme-x_webhook_status',
      ]),
    );
    expect(automation.subscribe.allow).toEqual(['_INBOX_automation.>']);
    expect(limited('projection').publish.deny).toEqual(
      expect.arrayContaining([
        '$KV.acme-x_timers.>',
        '$KV.acme-x_automation.>',
        '$KV.acme-x_webhook_status.>',
      ]),
    );
  });

  it('never lets a service user delete or purge a stream, or delete messages', () => {
    for (const user of ['command', 'projection', 'gateway', 'automation'] as const) {
      const rights = limited(user).publish.allow;
      expect(
        rights.filter((s) => /STREAM\.(DELETE|PURGE|MSG\.DELETE)|^\$JS\.API\.>$/.test(s)),
      ).toEqual([]);
    }
    expect(perms.admin).toBe('all');
  });
});

describe('natsServerConfig', () => {
  it('reads every password from the environment and writes TLS and encryption when asked', () => {
    const text = natsServerConfig(naming, {
      jetstream: { encryptionKeyVariable: 'KEY_VAR' },
      tls: { certFile: '/c.pem', keyFile: '/k.pem', caFile: '/ca.pem', verify: true },
    });
    for (const user of NATS_USERS) {
      expect(text).toContain(
        `user: ${user}\n      password: $CB_NATS_${user.toUpperCase()}_PASSWORD`,
      );
    }
    expect(text).toMatch(/cipher: chachapoly\n\s+key: \$KEY_VAR/);
    expect(text).toMatch(
      /tls \{\n\s+cert_file: "\/c.pem"\n\s+key_file: "\/k.pem"\n\s+ca_file: "\/ca.pem"\n\s+verify: true/,
    );
    expect(natsServerConfig(naming)).not.toMatch(/jetstream|tls \{|listen/);
  });
});

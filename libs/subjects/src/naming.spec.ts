import { InvalidNameError } from './ids';
import { Naming } from './naming';
import { partitionOf } from './partition';

describe('Naming', () => {
  const naming = new Naming({ prefix: 'cb', stream: 'CB_EVENTS', partitions: 8 });

  it('builds token subjects with the stable partition and the tenant', () => {
    const p = partitionOf('tok1', 8);
    expect(naming.tokenSubject('acme', 'wf1', 'tok1')).toBe(`cb.tok.${p}.acme.wf1.tok1`);
    expect(naming.tokenSubjectAnyWorkflow('acme', 'tok1')).toBe(`cb.tok.${p}.acme.*.tok1`);
    expect(naming.partitionFilter(3)).toBe('cb.tok.3.*.*.*');
    expect(naming.workflowTokensFilter('acme', 'wf1')).toBe('cb.tok.*.acme.wf1.*');
    expect(naming.partitionWorkflowFilter(2, 'acme', 'wf1')).toBe('cb.tok.2.acme.wf1.*');
    expect(naming.workflowSubject('acme', 'wf1')).toBe('cb.wf.acme.wf1');
    expect(naming.apiKeySubject('acme', 'k1')).toBe('cb.key.acme.k1');
  });

  it('keeps command subjects outside the event stream', () => {
    expect(naming.streamSubjects).toEqual([
      'cb.wf.*.*',
      'cb.tok.*.*.*.*',
      'cb.key.*.*',
      'cb.hook.*.*',
    ]);
    expect(naming.addedStreamSubjects).toEqual(['cb.hook.*.*']);
    expect(naming.legacyStreamSubjects).toEqual(['cb.wf.*', 'cb.tok.*.*.*']);
    expect(naming.tokenCommandSubject(3, 'token.fire')).toBe('cb.cmd.p3.token.fire');
    expect(naming.definitionCommandSubject).toBe('cb.cmd.def.workflow.define');
    expect(naming.anyCreateSubject).toBe('cb.cmd.any.token.create');
    expect(naming.commandItemWildcard(3)).toBe('cb.cmd.p3.>');
    expect(naming.commandItemWildcard('definitions')).toBe('cb.cmd.def.>');
    expect(naming.commandWildcard).toBe('cb.cmd.>');
    expect(() => naming.tokenCommandSubject(8, 'token.fire')).toThrow(RangeError);
    for (const s of naming.streamSubjects) expect(s.startsWith('cb.cmd')).toBe(false);
  });

  it('names webhooks: events, commands, buckets, keys, consumers and the deliveries log', () => {
    const id = 'wh_0123456789abcDEF';
    expect(naming.webhookSubject('acme', id)).toBe(`cb.hook.acme.${id}`);
    expect(naming.allWebhooksSubject).toBe('cb.hook.*.*');
    expect(naming.parseWebhookSubject(`cb.hook.acme.${id}`)).toEqual({
      tenant: 'acme',
      hookId: id,
    });
    for (const foreign of [
      'cb.hook.acme',
      'cb.hook.acme.x',
      'xx.hook.acme.' + id,
      'cb.key.acme.' + id,
    ]) {
      expect(naming.parseWebhookSubject(foreign)).toBeNull();
    }
    expect(() => naming.webhookSubject('acme', 'wh_short')).toThrow(InvalidNameError);
    expect(() => naming.webhookSubject('acme', 'wh_0123456789abc.EF')).toThrow(InvalidNameError);
    expect(naming.webhookCommandSubject('webhook.create')).toBe('cb.cmd.def.webhook.create');
    expect(naming.parseCommandSubject('cb.cmd.def.webhook.delete')).toEqual({
      kind: 'webhook.delete',
      route: 'definitions',
    });
    expect(naming.parseCommandSubject('cb.cmd.p1.webhook.create')).toBeNull();
    expect(naming.webhooksBucket).toBe('cb_webhooks');
    expect(naming.webhookStatusBucket).toBe('cb_webhook_status');
    expect(naming.webhookKey('acme', id)).toBe(`acme.${id}`);
    expect(naming.webhooksKeyFilter('acme')).toBe('acme.*');
    expect(naming.webhooksConsumer).toBe('cb_proj_hooks');
    expect(naming.webhookDeliveryConsumer('acme', id)).toBe(`cb_hook_acme_${id}`);
    expect(naming.webhookTokenFilter('acme')).toBe('cb.tok.*.acme.*.*');
    expect(naming.webhookTokenFilter('acme', 'wf1')).toBe('cb.tok.*.acme.wf1.*');
    expect(naming.webhookDeliveriesStream).toBe('CB_EVENTS_DELIVERIES');
    expect(naming.webhookDeliveriesSubjects).toEqual(['cb.whd.>']);
    expect(naming.webhookDeliverySubject('acme', id)).toBe(`cb.whd.acme.${id}`);
    expect(naming.webhookDeadLetterSubject('acme', id)).toBe(`cb.dlq.whk.acme.${id}`);
    expect(naming.allWebhookDeadLettersSubject).toBe('cb.dlq.whk.>');
    // The deliveries log is outside the event stream and the dead letters.
    for (const s of [...naming.streamSubjects, ...naming.deadLetterSubjects]) {
      expect(s.split('.')[1]).not.toBe('whd');
    }
  });

  it('keeps the command ping outside the commands and the streams', () => {
    expect(naming.commandPingSubject).toBe('cb.svc.command.ping');
    expect(naming.parseCommandSubject(naming.commandPingSubject)).toBeNull();
    expect(naming.commandPingSubject.startsWith('cb.cmd.')).toBe(false);
    for (const s of [...naming.streamSubjects, ...naming.deadLetterSubjects]) {
      expect(s.split('.')[1]).not.toBe('svc');
    }
  });

  it('maps subjects of the layout before tenants into a tenant', () => {
    expect(naming.tenantSubjectOfLegacy('cb.wf.order', 'default')).toBe('cb.wf.default.order');
    expect(naming.tenantSubjectOfLegacy('cb.tok.3.order.o-1', 'default')).toBe(
      'cb.tok.3.default.order.o-1',
    );
    for (const foreign of ['cb.wf.a.b', 'cb.tok.1.wf', 'xx.wf.a', 'cb.key.a.b', 'cb.wf..', 'cb']) {
      expect(naming.tenantSubjectOfLegacy(foreign, 'default')).toBeNull();
    }
    expect(() => naming.tenantSubjectOfLegacy('cb.wf.a', 'Bad')).toThrow(InvalidNameError);
    expect(naming.tenantMigrationStream).toBe('CB_EVENTS_MIGRATE');
    for (const s of naming.streamSubjects) {
      expect(naming.tenantMigrationSubject.startsWith(s.split('.*')[0]!)).toBe(false);
    }
  });

  it('parses what it builds and rejects foreign subjects', () => {
    const subject = naming.tokenSubject('acme', 'order_processing', 'o-1');
    expect(naming.parseTokenSubject(subject)).toEqual({
      partition: partitionOf('o-1', 8),
      tenant: 'acme',
      workflowId: 'order_processing',
      tokenId: 'o-1',
    });
    expect(naming.parseTokenSubject('cb.tok.99.acme.wf.t')).toBeNull();
    expect(naming.parseTokenSubject('xx.tok.1.acme.wf.t')).toBeNull();
    expect(naming.parseTokenSubject('cb.tok.1.acme.wf')).toBeNull();
    // The layout before tenants, and a tenant outside the alphabet (upper case), are foreign.
    expect(naming.parseTokenSubject('cb.tok.1.wf.t')).toBeNull();
    expect(naming.parseTokenSubject('cb.tok.1.Acme.wf.t')).toBeNull();
    expect(naming.parseWorkflowSubject(naming.workflowSubject('acme', 'wf_1'))).toEqual({
      tenant: 'acme',
      workflowId: 'wf_1',
    });
    expect(naming.parseWorkflowSubject('cb.wf.wf_1')).toBeNull();
    expect(naming.parseWorkflowSubject('cb.wf.a.b.c')).toBeNull();
    expect(naming.parseApiKeySubject('cb.key.acme.k1')).toEqual({ tenant: 'acme', keyId: 'k1' });
    expect(naming.parseApiKeySubject('cb.key.acme')).toBeNull();
    expect(naming.parseCommandSubject('cb.cmd.p3.token.fire')).toEqual({
      kind: 'token.fire',
      route: 3,
    });
    expect(naming.parseCommandSubject('cb.cmd.def.workflow.define')).toEqual({
      kind: 'workflow.define',
      route: 'definitions',
    });
    expect(naming.parseCommandSubject('cb.cmd.any.token.create')).toEqual({
      kind: 'token.create',
      route: 'any',
    });
    for (const bad of [
      'cb.cmd.token.fire',
      'cb.cmd.p3.token.explode',
      'cb.cmd.p8.token.fire',
      'cb.cmd.p3.workflow.define',
      'cb.cmd.def.token.fire',
      'cb.cmd.any.token.fire',
      'cb.cmd.px.token.fire',
    ]) {
      expect(naming.parseCommandSubject(bad)).toBeNull();
    }
  });

  it.each(['a.b', 'a b', '*', '>', 'x'.repeat(65), '', 'tab\t'])(
    'rejects the unsafe id %j in subjects and keys',
    (bad) => {
      expect(() => naming.tokenSubject('acme', 'wf', bad)).toThrow(InvalidNameError);
      expect(() => naming.workflowSubject('acme', bad)).toThrow(InvalidNameError);
      expect(() => naming.indexHeadKey('acme', 'wf', { kind: 'place', place: bad }, 0)).toThrow(
        InvalidNameError,
      );
    },
  );

  it.each(['a.b', 'Acme', '*', '>', 'x'.repeat(33), '', 'é'])(
    'rejects the tenant %j in subjects and keys',
    (bad) => {
      expect(() => naming.tokenSubject(bad, 'wf', 't')).toThrow(InvalidNameError);
      expect(() => naming.workflowSubject(bad, 'wf')).toThrow(InvalidNameError);
      expect(() => naming.tokenKey(bad, 't')).toThrow(InvalidNameError);
      expect(() => naming.workflowsKeyFilter(bad)).toThrow(InvalidNameError);
    },
  );

  it('builds keys and generational bucket names', () => {
    expect(naming.tokenKey('acme', 't1')).toBe('acme.t1');
    expect(naming.indexHeadKey('acme', 'wf', { kind: 'place', place: 'draft' }, 3)).toBe(
      'acme.wf.p.draft.3.h',
    );
    expect(naming.indexChunkKey('acme', 'wf', { kind: 'workflow' }, 0, '0a1b')).toBe(
      'acme.wf.w._.0.c0a1b',
    );
    expect(() => naming.indexChunkKey('acme', 'wf', { kind: 'workflow' }, 0, 'x.y')).toThrow(
      InvalidNameError,
    );
    expect(() => naming.indexHeadKey('acme', 'wf', { kind: 'workflow' }, 8)).toThrow(RangeError);
    // Any value: as itself when safe, else hashed into one key segment.
    const attr = (attribute: string, value: string) =>
      naming.indexHeadKey('acme', 'wf', { kind: 'attribute', attribute, value }, 1);
    expect(attr('metadata.region', 'eu')).toBe('acme.wf.a.metadata=region.veu.1.h');
    expect(attr('data.city', 'São Paulo *>')).toMatch(
      /^acme\.wf\.a\.data=city\.h[0-9a-f]{16}\.1\.h$/,
    );
    expect(() => attr('data.a.b', 'x')).toThrow(InvalidNameError);
    expect(attr('metadata.region', 'eu')).not.toBe(attr('metadata.region', 'us'));
    expect(attr('metadata.region', 'eu')).not.toBe(attr('data.region', 'eu'));
    expect(naming.statsKey('acme', 'wf', 7)).toBe('acme.wf.7');
    expect(() => naming.statsKey('acme', 'wf', 8)).toThrow(RangeError);
    expect(naming.workflowKey('acme', 'wf')).toBe('acme.wf');
    expect(naming.workflowsKeyFilter('acme')).toBe('acme.*');
    expect(naming.workflowVersionKey('acme', 'wf', 3)).toBe('acme.wf.v3');
    expect(naming.readModelBucket('tokens', 2)).toBe('cb_tokens_2');
    expect(naming.leaseKey(1, 5)).toBe('lease.g1.5');
    expect(naming.leaseKey(2, 'definitions')).toBe('lease.g2.definitions');
    expect(naming.watermarkKey(1, 3)).toBe('applied.g1.3');
    expect(naming.partitionConsumer(1, 3)).toBe('cb_proj_g1_p3');
    expect(naming.definitionsConsumer(2)).toBe('cb_proj_g2_defs');
    expect(() => naming.workerKey('a.b')).toThrow(InvalidNameError);
    expect(naming.deadLetterSubject('cb.tok.1.acme.wf.t')).toBe('cb.dlq.tok.1.acme.wf.t');
  });

  it('names the credential, session and rate-limit buckets and their keys', () => {
    expect(naming.keysBucket).toBe('cb_keys');
    expect(naming.sessionsBucket).toBe('cb_sessions');
    expect(naming.rateLimitBucket).toBe('cb_ratelimit');
    expect(naming.apiKeyRecordKey('AbCdEfGh01234567')).toBe('AbCdEfGh01234567');
    expect(naming.rateLimitKey('AbCdEfGh01234567', 1_800_000_000)).toBe(
      'AbCdEfGh01234567.1800000000',
    );
    const digest = 'a'.repeat(64);
    expect(naming.sessionRecordKey(digest)).toBe(digest);
    for (const bad of ['short', 'AbCdEfGh0123456_', 'AbCdEfGh01234567x', 'AbCdEfGh.1234567']) {
      expect(() => naming.apiKeyRecordKey(bad)).toThrow(InvalidNameError);
    }
    expect(() => naming.sessionRecordKey('A'.repeat(64))).toThrow(InvalidNameError);
    expect(() => naming.sessionRecordKey('a'.repeat(63))).toThrow(InvalidNameError);
    expect(() => naming.rateLimitKey('AbCdEfGh01234567', -1)).toThrow(RangeError);
    expect(() => naming.rateLimitKey('AbCdEfGh01234567', 1.5)).toThrow(RangeError);
  });

  it('validates its own options', () => {
    expect(() => new Naming({ prefix: 'a.b', stream: 'S', partitions: 8 })).toThrow(
      InvalidNameError,
    );
    expect(() => new Naming({ prefix: 'cb', stream: 'S.X', partitions: 8 })).toThrow(
      InvalidNameError,
    );
    expect(() => new Naming({ prefix: 'cb', stream: 'S', partitions: 0 })).toThrow(
      InvalidNameError,
    );
  });
});

import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createLogger } from '@cb/logging';
import { Naming } from '@cb/subjects';
import { uniqueNaming, useTestNats } from '@cb/testing';
import { NatsPlatformError } from './errors';
import { ensureInfrastructure } from './infrastructure';
import { eventStreamConfig } from './stream-setup';

const logger = createLogger({ service: 'test', level: 'silent' });
const settings = { replicas: 1, duplicateWindowMs: 60_000 };

const nats = useTestNats();

describe('ensureInfrastructure', () => {
  it('creates the streams and buckets once and is idempotent', async () => {
    const naming = uniqueNaming();
    await ensureInfrastructure(nats.nc, naming, settings, logger);
    const again = await ensureInfrastructure(nats.nc, naming, settings, logger);
    const info = await again.jsm.streams.info(naming.stream);
    expect(info.config.subjects.sort()).toEqual([...naming.streamSubjects].sort());
    expect(info.config).toMatchObject({
      retention: 'limits',
      storage: 'file',
      allow_direct: true,
      deny_delete: true,
      deny_purge: true,
      max_age: 0,
      max_msgs: -1,
    });
    await expect(again.jsm.streams.info(naming.deadLetterStream)).resolves.toBeTruthy();
    const kvm = new Kvm(nats.nc);
    await expect(kvm.open(naming.metaBucket)).resolves.toBeTruthy();
    const deliveries = await again.jsm.streams.info(naming.webhookDeliveriesStream);
    expect(deliveries.config).toMatchObject({
      subjects: naming.webhookDeliveriesSubjects,
      storage: 'file',
      max_msgs_per_subject: 200,
      max_age: 7 * 24 * 3600 * 1e9,
    });
    expect((await again.webhooks.status()).bucket).toBe(naming.webhooksBucket);
    expect((await again.webhookStatus.status()).bucket).toBe(naming.webhookStatusBucket);
    await expect(again.jsm.streams.info(`KV_${naming.webhooksBucket}`)).resolves.toBeTruthy();
    await expect(again.jsm.streams.info(`KV_${naming.webhookStatusBucket}`)).resolves.toBeTruthy();
  });

  it('adds the webhook subject to a stream of the version before webhooks, and nothing else', async () => {
    const naming = uniqueNaming();
    const jsm = await jetstreamManager(nats.nc);
    const older = naming.streamSubjects.filter((s) => !naming.addedStreamSubjects.includes(s));
    await jsm.streams.add({
      ...eventStreamConfig(naming, settings),
      name: naming.stream,
      subjects: older,
    });
    const before = await jsm.streams.info(naming.stream);
    await ensureInfrastructure(nats.nc, naming, settings, logger);
    const after = await jsm.streams.info(naming.stream);
    expect(after.config.subjects.sort()).toEqual([...naming.streamSubjects].sort());
    expect({ ...after.config, subjects: [] }).toEqual({ ...before.config, subjects: [] });
  });

  it('refuses to start on drift, reports every difference and changes nothing', async () => {
    const naming = uniqueNaming();
    await ensureInfrastructure(nats.nc, naming, settings, logger);
    const jsm = await jetstreamManager(nats.nc);
    const before = await jsm.streams.info(naming.stream);
    const error = await ensureInfrastructure(
      nats.nc,
      naming,
      { replicas: 1, duplicateWindowMs: 5_000 },
      logger,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsPlatformError);
    expect((error as NatsPlatformError).code).toBe('STREAM_DRIFT');
    expect((error as Error).message).toMatch(/duplicate_window/);
    const after = await jsm.streams.info(naming.stream);
    expect(after.config).toEqual(before.config);
  });

  it('detects a stream whose subjects were changed by hand', async () => {
    const naming = uniqueNaming();
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({
      ...eventStreamConfig(naming, settings),
      name: naming.stream,
      subjects: [`${naming.prefix}.wf.*`],
    });
    const error = await ensureInfrastructure(nats.nc, naming, settings, logger).catch(
      (e: unknown) => e,
    );
    expect((error as NatsPlatformError).code).toBe('STREAM_DRIFT');
    expect((error as Error).message).toMatch(/subjects/);
  });

  it('refuses a stream in the layout from before tenants and says how to migrate it', async () => {
    const naming = uniqueNaming();
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({
      ...eventStreamConfig(naming, settings),
      name: naming.stream,
      subjects: naming.legacyStreamSubjects,
    });
    const before = await jsm.streams.info(naming.stream);
    const error = await ensureInfrastructure(nats.nc, naming, settings, logger).catch(
      (e: unknown) => e,
    );
    expect((error as NatsPlatformError).code).toBe('STREAM_LAYOUT_OUTDATED');
    expect((error as Error).message).toMatch(/npm run migrate:tenants/);
    expect((await jsm.streams.info(naming.stream)).config).toEqual(before.config);
  });

  it('refuses a partition count different from the one recorded at creation', async () => {
    const naming = uniqueNaming(8);
    await ensureInfrastructure(nats.nc, naming, settings, logger);
    const other = new Naming({ prefix: naming.prefix, stream: naming.stream, partitions: 16 });
    const error = await ensureInfrastructure(nats.nc, other, settings, logger).catch(
      (e: unknown) => e,
    );
    expect((error as NatsPlatformError).code).toBe('PARTITIONS_MISMATCH');
    expect((error as Error).message).toMatch(/CB_PARTITIONS=8/);
  });
});

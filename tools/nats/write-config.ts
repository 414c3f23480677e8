/**
 * Writes docker/nats-server.conf: `natsServerConfig` for the default naming with the compose
 * options (JetStream encrypted at rest). `npm run nats:config`; docker/nats-server-conf.spec.ts
 * fails when the committed file differs from this output.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_NATS_CONFIG, natsServerConfig } from '@cb/nats';
import { DEFAULT_NAMING, Naming } from '@cb/subjects';

const file = join(__dirname, '..', '..', 'docker', 'nats-server.conf');
writeFileSync(file, natsServerConfig(new Naming(DEFAULT_NAMING), DOCKER_NATS_CONFIG));
process.stdout.write(`wrote ${file}\n`);

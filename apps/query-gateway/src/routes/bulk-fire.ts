import type { FastifyPluginAsync } from 'fastify';
import type { CommandClient } from '../command-client';
import type { Reads } from '../read/reads';

export interface BulkFireRouteDeps {
  commands: CommandClient;
  reads: Reads;
  concurrency: number;
}

/** POST /v1/workflows/:workflowId/bulk-fire (being written: issue 4, item 5). */
export const bulkFireRoutes: FastifyPluginAsync<BulkFireRouteDeps> = async () => {};

import { CompiledWorkflowCache, type CompiledWorkflow } from '@cb/domain';
import { decodeJson, isDefinitionEvent, lastValidEvent, validEventsOn } from '@cb/nats';
import type { WorkflowDefined, WorkflowPage, WorkflowResource } from '@cb/schemas';
import { kvSubject } from '@cb/subjects';
import { ApiError } from '../api-error';
import { isPut, notFound, restriction, scanKeys, type ReadContext } from './context';
import { decodeCursor, encodeCursor } from './cursor';

/**
 * Definitions: one version or the latest from the workflows read model (the stream while the
 * projection lags), the tenant's list, and compiled versions for the token reads.
 */
export class WorkflowReads {
  private readonly compiled = new CompiledWorkflowCache();

  constructor(private readonly ctx: ReadContext) {}

  /** The latest definition, or one version; falls back to the stream while the projection lags. */
  async workflow(
    tenant: string,
    workflowId: string,
    version?: number,
    minSeq?: number,
  ): Promise<WorkflowResource> {
    await this.ctx.freshness.waitCovered(minSeq, (marks) =>
      this.ctx.freshness.definitionsCovered(minSeq ?? 0, marks),
    );
    const resource = await this.readWorkflow(tenant, workflowId, version);
    if (resource === null) {
      throw new ApiError(
        'WORKFLOW_NOT_FOUND',
        version === undefined
          ? `workflow ${workflowId} does not exist`
          : `workflow ${workflowId} has no version ${version}`,
      );
    }
    return resource;
  }

  async workflows(
    tenant: string,
    limit: number,
    cursor?: string,
    minSeq?: number,
    visible?: ReadonlySet<string>,
  ): Promise<WorkflowPage> {
    const listName = `workflows:${tenant}${restriction(visible)}`;
    const after = decodeCursor(listName, cursor, 'id');
    const bucket = this.ctx.view.kv('workflows').bucket;
    // The tenant's latest definitions (`<tenant>.<id>`); keys are listed by workflow id.
    const prefix = kvSubject(bucket, `${tenant}.`);
    await this.ctx.freshness.waitCovered(minSeq, (marks) =>
      this.ctx.freshness.definitionsCovered(minSeq ?? 0, marks),
    );
    const messages = await scanKeys(
      this.ctx,
      bucket,
      kvSubject(bucket, this.ctx.naming.workflowsKeyFilter(tenant)),
    );
    const live = messages
      .filter((m) => isPut(m))
      .map((m) => ({ key: m.subject.slice(prefix.length), m }))
      .filter(({ key }) => after === undefined || key > after)
      .filter(({ key }) => visible === undefined || visible.has(key))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const page = live.slice(0, limit);
    const items = page
      .map(({ m }) => decodeJson(m.data) as WorkflowResource | undefined)
      .filter((w): w is WorkflowResource => w !== undefined);
    const last = page.at(-1);
    return {
      items,
      ...(live.length > limit && last ? { nextCursor: encodeCursor(listName, last.key) } : {}),
    };
  }

  private async readWorkflow(
    tenant: string,
    workflowId: string,
    version?: number,
  ): Promise<WorkflowResource | null> {
    const key =
      version === undefined
        ? this.ctx.naming.workflowKey(tenant, workflowId)
        : this.ctx.naming.workflowVersionKey(tenant, workflowId, version);
    const entry = (await this.ctx.view.hasBucket('workflows'))
      ? await this.ctx.view.kv('workflows').get(key).catch(notFound)
      : null;
    if (entry?.operation === 'PUT') {
      const value = entry.json<WorkflowResource>();
      if (value) return value;
    }
    // Not projected yet (or no worker runs): the stream has every definition.
    const subject = this.ctx.naming.workflowSubject(tenant, workflowId);
    if (version === undefined) {
      const { event, message } = await lastValidEvent(this.ctx.store, subject, isDefinitionEvent);
      return event === null || message === null ? null : resourceOf(event, message.seq);
    }
    for await (const { event, message } of validEventsOn(
      this.ctx.store,
      subject,
      isDefinitionEvent,
    )) {
      if (event.definition.version === version) return resourceOf(event, message.seq);
    }
    return null;
  }

  async compiledWorkflow(
    tenant: string,
    workflowId: string,
    version: number,
  ): Promise<CompiledWorkflow> {
    const hit = this.compiled.get(tenant, workflowId, version);
    if (hit) return hit;
    const {
      analysis: _a,
      seq: _s,
      ...definition
    } = await this.workflow(tenant, workflowId, version);
    return this.compiled.compile(tenant, definition);
  }
}

function resourceOf(event: WorkflowDefined, seq: number): WorkflowResource {
  return { ...event.definition, analysis: event.analysis, seq };
}

import { availabilityGuardRequests, availableTransitions } from '@cb/domain';
import { GuardPoolError, definitionKeyOf } from '@cb/guard-pool';
import { Token as TokenSchema } from '@cb/schemas';
import type { Token, TokenDoc, TransitionAvailability } from '@cb/schemas';
import { ApiError } from '../api-error';
import { notFound, type AsOf, type ReadContext } from './context';
import { TokenTimersReader } from './token-timers';
import type { WorkflowReads } from './workflow-reads';

/** A token read, with the stored JSON when it is exactly the API token (sent as is, not re-serialised). */
export interface TokenRead extends AsOf<Token> {
  json?: Uint8Array;
}

/**
 * A live token document has exactly the API token's members but `timers`, which a read adds
 * (a tombstone has more).
 */
const TOKEN_MEMBERS = Object.keys(TokenSchema.properties).length - 1;

/** One token: from the read model (with `minSeq`), from the stream (strong), its transitions. */
export class TokenReads {
  private readonly timers: TokenTimersReader;

  constructor(
    private readonly ctx: ReadContext,
    private readonly workflows: WorkflowReads,
  ) {
    this.timers = new TokenTimersReader(ctx.mux, ctx.naming, async (tenant, workflowId, version) =>
      (await workflows.workflow(tenant, workflowId, version)).transitions.some(
        (t) => t.after !== undefined || t.at !== undefined,
      ),
    );
  }

  /** One token from the read model (`workflowId` undefined: any workflow). */
  async token(
    tenant: string,
    workflowId: string | undefined,
    tokenId: string,
    minSeq?: number,
  ): Promise<TokenRead> {
    const p = this.ctx.naming.tokenPartition(tokenId);
    // The watermark from before the read: one that moved during it proves nothing about it.
    const markBefore = this.ctx.view.watermark(p);
    const read = await this.ctx.freshness.waitFresh(
      minSeq,
      () => this.readTokenDoc(tenant, tokenId),
      (d, marks) =>
        this.ctx.freshness.tokenCovered(tenant, tokenId, d?.doc.version ?? 0, minSeq ?? 0, marks),
    );
    if (
      read === null ||
      read.doc.deleted ||
      (workflowId !== undefined && read.doc.workflowId !== workflowId)
    ) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        workflowId === undefined
          ? `token ${tokenId} does not exist`
          : `token ${tokenId} does not exist in workflow ${workflowId}`,
      );
    }
    const { doc, bytes } = read;
    const asOf = Math.max(doc.version, markBefore, minSeq ?? 0);
    const timers = await this.timers.timersOf(tenant, doc);
    if (timers === undefined && Object.keys(doc).length === TOKEN_MEMBERS) {
      return { value: doc, asOf, json: bytes };
    }
    const { deleted: _d, deletedAt: _a, ...token } = doc;
    return { value: timers ? { ...token, timers } : token, asOf };
  }

  /** A token straight from the stream (one direct get). */
  async strongToken(tenant: string, workflowId: string, tokenId: string): Promise<Token> {
    const token = await this.ctx.strong.get(tenant, workflowId, tokenId);
    if (token === null) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        `token ${tokenId} does not exist in workflow ${workflowId}`,
      );
    }
    const timers = await this.timers.timersOf(tenant, token);
    return timers ? { ...token, timers } : token;
  }

  /**
   * Each transition of the token's definition version: enabled, or every reason it is not. The
   * guards run in the guard pool, each within its time budget (a guard past it is reported as
   * GUARD_TOO_EXPENSIVE, the others still with their verdicts).
   */
  async transitions(
    tenant: string,
    workflowId: string,
    tokenId: string,
    options: { strong?: boolean; minSeq?: number },
  ): Promise<AsOf<TransitionAvailability[]>> {
    const read = options.strong
      ? { value: await this.strongToken(tenant, workflowId, tokenId), asOf: 0 }
      : await this.token(tenant, workflowId, tokenId, options.minSeq);
    const token = read.value;
    const compiled = await this.workflows.compiledWorkflow(
      tenant,
      workflowId,
      token.definitionVersion,
    );
    const requests = availabilityGuardRequests(compiled, token);
    const verdicts = await this.ctx.guards
      .evaluate(
        compiled.definition,
        requests,
        definitionKeyOf(tenant, workflowId, token.definitionVersion),
      )
      .catch((err) => {
        if (!(err instanceof GuardPoolError)) throw err;
        throw new ApiError('SERVICE_UNAVAILABLE', `${err.message}`, { retryAfterSeconds: 1 });
      });
    return {
      value: availableTransitions(compiled, token, verdicts),
      asOf: options.strong ? token.version : read.asOf,
    };
  }

  private async readTokenDoc(
    tenant: string,
    tokenId: string,
  ): Promise<{ doc: TokenDoc; bytes: Uint8Array } | null> {
    if (!(await this.ctx.view.hasBucket('tokens'))) return null;
    const entry = await this.ctx.view
      .kv('tokens')
      .get(this.ctx.naming.tokenKey(tenant, tokenId))
      .catch(notFound);
    if (!entry || entry.operation !== 'PUT') return null;
    const doc = entry.json<TokenDoc>();
    return doc ? { doc, bytes: entry.value } : null;
  }
}

import type { NatsConnection } from '@nats-io/transport-node';
import type { GuardPool } from '@cb/guard-pool';
import type { EventStore, RequestMux } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import type { StrongTokenReader } from '../token-reader';
import type { ReadContext, ReadsOptions } from './context';
import { Freshness } from './freshness';
import type { ReadView } from './read-view';
import { StatsReads } from './stats-reads';
import { TokenHistory } from './token-history';
import { TokenListing } from './token-listing';
import { TokenReads } from './token-reads';
import { WorkflowReads } from './workflow-reads';

export type { AsOf, ReadsOptions } from './context';
export type { TokenQuery } from './token-listing';
export type { TokenRead } from './token-reads';

/**
 * Every read of the API, from the KV read models (token lists from the projection's ordered
 * indexes), each within one tenant (every key and subject read starts with it), with
 * read-your-writes: `minSeq` waits until the relevant partitions' watermarks, or
 * the stream itself, prove every event with seq ≤ minSeq is reflected (see Freshness).
 *
 * The routes' one entry: each kind of read lives in a module of its own — definitions
 * (WorkflowReads), one token (TokenReads), listings (TokenListing), history (TokenHistory) and
 * stats (StatsReads).
 */
export class Reads {
  private readonly definitions: WorkflowReads;
  private readonly tokenReads: TokenReads;
  private readonly listing: TokenListing;
  private readonly tokenHistory: TokenHistory;
  private readonly statsReads: StatsReads;

  readonly workflow: WorkflowReads['workflow'];
  readonly workflows: WorkflowReads['workflows'];
  readonly token: TokenReads['token'];
  readonly strongToken: TokenReads['strongToken'];
  readonly transitions: TokenReads['transitions'];
  readonly tokens: TokenListing['tokens'];
  readonly history: TokenHistory['history'];
  readonly stats: StatsReads['stats'];

  constructor(
    nc: NatsConnection,
    mux: RequestMux,
    naming: Naming,
    store: EventStore,
    view: ReadView,
    strong: StrongTokenReader,
    guards: GuardPool,
    options: ReadsOptions,
  ) {
    const freshness = new Freshness(mux, naming, store, view, options);
    const ctx: ReadContext = { nc, mux, naming, store, view, strong, guards, options, freshness };
    this.definitions = new WorkflowReads(ctx);
    this.tokenReads = new TokenReads(ctx, this.definitions);
    this.listing = new TokenListing(ctx, this.definitions);
    this.tokenHistory = new TokenHistory(ctx);
    this.statsReads = new StatsReads(ctx, this.definitions);
    this.workflow = this.definitions.workflow.bind(this.definitions);
    this.workflows = this.definitions.workflows.bind(this.definitions);
    this.token = this.tokenReads.token.bind(this.tokenReads);
    this.strongToken = this.tokenReads.strongToken.bind(this.tokenReads);
    this.transitions = this.tokenReads.transitions.bind(this.tokenReads);
    this.tokens = this.listing.tokens.bind(this.listing);
    this.history = this.tokenHistory.history.bind(this.tokenHistory);
    this.stats = this.statsReads.stats.bind(this.statsReads);
  }
}

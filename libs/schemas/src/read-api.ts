import { Type, type Static } from '@sinclair/typebox';
import { Seq, Timestamp } from './common';
import { WorkflowResource } from './definition';
import { TokenEvent } from './events';
import { WorkflowStats } from './read-models';
import { Token } from './token';

const NextCursor = Type.Optional(
  Type.String({ description: 'pass as `cursor` for the next page; absent on the last page' }),
);

export const TokenPage = Type.Object({ items: Type.Array(Token), nextCursor: NextCursor });
export type TokenPage = Static<typeof TokenPage>;

export const WorkflowPage = Type.Object({
  items: Type.Array(WorkflowResource),
  nextCursor: NextCursor,
});
export type WorkflowPage = Static<typeof WorkflowPage>;

/** One stored event of a token with its stream seq (history items and live events). */
export const SequencedEvent = Type.Object({ seq: Seq, event: TokenEvent });
export type SequencedEvent = Static<typeof SequencedEvent>;

export const HistoryPage = Type.Object({
  items: Type.Array(SequencedEvent, { description: 'in stream order' }),
  nextCursor: NextCursor,
});
export type HistoryPage = Static<typeof HistoryPage>;

export const StatsWindow = Type.Object({
  from: Timestamp,
  to: Timestamp,
  created: Type.Integer({ minimum: 0, description: 'tokens created in the window' }),
  completed: Type.Integer({
    minimum: 0,
    description: 'transitions into a final place in the window',
  }),
});
export type StatsWindow = Static<typeof StatsWindow>;

export const StatsResponse = Type.Object({
  ...WorkflowStats.properties,
  window: StatsWindow,
});
export type StatsResponse = Static<typeof StatsResponse>;

/**
 * The GraphQL schema (SDL) of `/graphql`: the original Circuit Breaker's operations with its type
 * and field names, so its clients' queries run unchanged, plus fields of ours (`version`,
 * `definitionVersion`, `finalPlaces`, `analysis`, `guard`). Resolvers (resolvers/*.ts) answer
 * from the same read layer and command path as the REST routes.
 *
 * Lists are plain lists, as in the original: `first` bounds them (default 50, at most
 * MAX_FIRST), `after` is the id of the last item of the previous page, `minSeq` makes a read
 * wait for a write (read-your-writes, as `?minSeq=` on REST).
 */
export const typeDefs = /* GraphQL */ `
  "Any JSON value: token data and metadata, guards."
  scalar JSON

  type Transition {
    id: String!
    "The original's transition name: our transition id."
    name: String!
    fromPlaces: [String!]!
    toPlace: String!
    "The guard as JSON text, when the transition has one (the original's conditions)."
    conditions: [String!]!
    description: String
    "The guard: a JSON Schema over { data, metadata }."
    guard: JSON
  }

  type DefinitionAnalysis {
    unreachablePlaces: [String!]!
    deadEndPlaces: [String!]!
  }

  type Workflow {
    id: String!
    name: String!
    description: String
    places: [String!]!
    transitions: [Transition!]!
    initialPlace: String!
    finalPlaces: [String!]!
    "When this version was defined."
    createdAt: String!
    "When the latest version was defined (definitions are immutable, so equal to createdAt)."
    updatedAt: String!
    version: Int!
    definitionVersion: Int!
    analysis: DefinitionAnalysis!
  }

  type HistoryEvent {
    timestamp: String!
    "The transition fired; null for creation and patches."
    transition: String
    fromPlace: String
    toPlace: String!
    data: JSON!
  }

  type Token {
    id: String!
    workflowId: String!
    place: String!
    data: JSON!
    metadata: JSON!
    createdAt: String!
    updatedAt: String!
    "Every event of the token, oldest first (from the stream)."
    history: [HistoryEvent!]!
    version: Int!
    definitionVersion: Int!
    workflow: Workflow
  }

  type TransitionRecord {
    fromPlace: String!
    toPlace: String!
    transitionId: String!
    timestamp: String!
    triggeredBy: String
    natsSequence: Int!
    metadata: JSON
  }

  type NATSToken {
    id: String!
    workflowId: String!
    place: String!
    data: JSON!
    metadata: JSON!
    createdAt: String!
    updatedAt: String!
    history: [HistoryEvent!]!
    version: Int!
    definitionVersion: Int!
    workflow: Workflow
    "The stream sequence of the token's last event (its version)."
    natsSequence: Int!
    "When the token's last event happened (its updatedAt)."
    natsTimestamp: String!
    "The subject the token's events are published on."
    natsSubject: String!
    transitionHistory: [TransitionRecord!]!
  }

  type DisabledReason {
    "WRONG_PLACE, GUARD_FAILED or GUARD_TOO_EXPENSIVE."
    code: String!
    message: String!
    place: String
    from: [String!]
    failures: JSON
    failureCount: Int
    quarantinedUntil: String
  }

  type AvailableTransition {
    id: String!
    name: String!
    fromPlaces: [String!]!
    toPlace: String!
    description: String
    enabled: Boolean!
    "Why it is not enabled (empty when it is)."
    reasons: [DisabledReason!]!
  }

  type PlaceCount {
    place: String!
    count: Int!
  }

  type ThroughputPeriod {
    "The window: <from>/<to> (ISO 8601)."
    period: String!
    tokensCompleted: Int!
    averageProcessingTime: Float!
  }

  type WorkflowAnalytics {
    totalTokens: Int!
    tokensPerPlace: [PlaceCount!]!
    "Mean time in a place before a transition, in milliseconds."
    averageTransitionTime: Float!
    throughput: ThroughputPeriod!
    transitionsFired: Int!
  }

  type BulkTransitionResult {
    success: Boolean!
    processedCount: Int!
    failedCount: Int!
    "One line per token that did not fire: <tokenId>: <CODE>: <message>."
    errors: [String!]!
    succeededIds: [String!]!
    truncated: Boolean!
    nextCursor: String
  }

  "What a subscription delivers about a token."
  type TokenEvent {
    "created, transitioned, updated or deleted."
    eventType: String!
    token: Token!
    timestamp: String!
    "Who caused it (triggeredBy, else the key id)."
    source: String
    "The event's stream sequence: resume after it with afterSeq."
    seq: Int!
  }

  type WorkflowEvent {
    eventType: String!
    workflowId: String!
    data: JSON
    timestamp: String!
    seq: Int!
  }

  input TokenFilter {
    "At most 20 workflows; absent: every workflow the credential sees."
    workflowIds: [String!]
    "Tokens in any of these places (at most 20)."
    places: [String!]
    "Top-level metadata keys and the scalar values they must have (compared as text)."
    metadata: JSON
  }

  input TransitionDefinitionInput {
    id: String!
    fromPlaces: [String!]!
    toPlace: String!
    "Not supported (guards are JSON Schema): must be absent or empty."
    conditions: [String!]
    description: String
    guard: JSON
    after: String
    at: String
  }

  input WorkflowDefinitionInput {
    id: String!
    name: String!
    description: String
    places: [String!]!
    initialPlace: String!
    finalPlaces: [String!]
    transitions: [TransitionDefinitionInput!]!
    searchAttributes: [String!]
  }

  input TokenCreateInput {
    workflowId: String!
    initialPlace: String
    data: JSON
    metadata: JSON
    id: String
    triggeredBy: String
  }

  input TransitionFireInput {
    tokenId: String!
    transitionId: String!
    data: JSON
    metadata: JSON
    triggeredBy: String
  }

  input CreateWorkflowInstanceInput {
    workflowId: String!
    initialData: JSON
    metadata: JSON
    triggeredBy: String
  }

  input TransitionTokenWithNATSInput {
    tokenId: String!
    transitionId: String!
    "Must be the transition's target place (else TARGET_PLACE_MISMATCH)."
    newPlace: String!
    triggeredBy: String
    data: JSON
  }

  input BulkTransitionInput {
    workflowId: String!
    fromPlace: String
    transitionId: String!
    "{ metadata: {...}, data: {...} }: top-level keys and the values they must equal."
    filter: JSON
    limit: Int
    cursor: String
    triggeredBy: String
  }

  type Query {
    workflow(id: String!, minSeq: Int): Workflow
    workflows(first: Int, after: String, minSeq: Int): [Workflow!]!
    token(id: String!, minSeq: Int): Token
    tokens(workflowId: String!, first: Int, after: String, minSeq: Int): [Token!]!
    natsToken(id: String!, minSeq: Int): NATSToken
    tokensInPlace(
      workflowId: String!
      placeId: String!
      first: Int
      after: String
      minSeq: Int
    ): [NATSToken!]!
    findToken(workflowId: String!, tokenId: String!, minSeq: Int): NATSToken
    findTokens(filter: TokenFilter!, first: Int, after: String, minSeq: Int): [NATSToken!]!
    availableTransitions(tokenId: String!, minSeq: Int): [AvailableTransition!]!
    workflowAnalytics(workflowId: String!, minSeq: Int): WorkflowAnalytics!
  }

  type Mutation {
    createWorkflow(input: WorkflowDefinitionInput!, idempotencyKey: String): Workflow!
    createToken(input: TokenCreateInput!, idempotencyKey: String): Token!
    fireTransition(
      input: TransitionFireInput!
      expectedVersion: Int
      idempotencyKey: String
    ): Token!
    createWorkflowInstance(input: CreateWorkflowInstanceInput!, idempotencyKey: String): NATSToken!
    transitionTokenWithNats(
      input: TransitionTokenWithNATSInput!
      expectedVersion: Int
      idempotencyKey: String
    ): NATSToken!
    bulkTransitionTokens(input: BulkTransitionInput!, idempotencyKey: String): BulkTransitionResult!
  }

  type Subscription {
    tokenUpdates(tokenId: String!, afterSeq: Int): TokenEvent!
    workflowEvents(workflowId: String!, afterSeq: Int): WorkflowEvent!
    tokenEvents(workflowId: String!, placeName: String, afterSeq: Int): TokenEvent!
  }
`;

/** What the demo does with each fixture workflow: the tokens it creates and the fires it tries. */

export interface Step {
  transition: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The refusal this fire is meant to get (default: it succeeds). */
  refused?: 'GUARD_FAILED' | 'TRANSITION_NOT_ENABLED';
  /** What the step shows, for the guard table. */
  why?: string;
}

export interface Plan {
  tag: string;
  count: number;
  create(i: number): { data: Record<string, unknown>; metadata?: Record<string, unknown> };
  steps(i: number): Step[];
}

export const PLANS: Record<string, Plan> = {
  article_publishing: {
    tag: 'art',
    count: 10,
    create: (i) => ({
      data: { title: `Article ${i + 1}`, content: 'Lorem ipsum…', word_count: 50 },
    }),
    steps: (i) => {
      const submitTooShort: Step = {
        transition: 'submit',
        refused: 'GUARD_FAILED',
        why: 'word_count 50',
      };
      const submit: Step = {
        transition: 'submit',
        data: { word_count: 150 },
        why: 'word_count 150',
      };
      const approve: Step = { transition: 'approve', metadata: { reviewer: 'ann' } };
      switch (i % 5) {
        case 0:
          return [submitTooShort];
        case 1:
          return [submitTooShort, submit];
        case 2:
          return [
            submit,
            { transition: 'approve', refused: 'GUARD_FAILED', why: 'no reviewer' },
            approve,
          ];
        case 3:
          return [
            submit,
            approve,
            { transition: 'publish', refused: 'GUARD_FAILED', why: 'word_count 150, no status' },
            i < 5
              ? {
                  transition: 'publish',
                  data: { document_type: 'article', word_count: 650 },
                  metadata: { status: 'approved' },
                  why: 'article, word_count 650, approved',
                }
              : { transition: 'publish', metadata: { emergency: true }, why: 'emergency' },
          ];
        default:
          return [
            submit,
            { transition: 'reject', metadata: { reviewer: 'bo' } },
            ...(i >= 5 ? [{ transition: 'revise' }] : []),
          ];
      }
    },
  },
  document_review: {
    tag: 'doc',
    count: 8,
    create: (i) => ({ data: { title: `Document ${i + 1}` } }),
    steps: (i) => {
      const path = ['submit', 'review', 'approve'];
      switch (i % 4) {
        case 0:
          return [
            { transition: 'approve', refused: 'TRANSITION_NOT_ENABLED', why: 'still a draft' },
            { transition: 'submit' },
          ];
        case 1:
          return path.slice(0, 2).map((transition) => ({ transition }));
        case 2:
          return path.map((transition) => ({ transition }));
        default:
          return ['submit', 'review', 'reject', 'revise'].map((transition) => ({ transition }));
      }
    },
  },
  order_processing: {
    tag: 'ord',
    count: 10,
    create: (i) => ({ data: { items: (i % 3) + 1, total: 19.9 * ((i % 3) + 1) } }),
    steps: (i) => {
      const pay: Step = { transition: 'pay', data: { payment_method: 'card' }, why: 'card' };
      switch (i % 5) {
        case 0:
          return [{ transition: 'cancel' }];
        case 1:
          return [{ transition: 'checkout' }];
        case 2:
          return [
            { transition: 'checkout' },
            { transition: 'pay', refused: 'GUARD_FAILED', why: 'no payment_method' },
            pay,
          ];
        case 3:
          return [{ transition: 'checkout' }, pay, { transition: 'ship' }];
        default:
          return [
            { transition: 'checkout' },
            pay,
            { transition: 'ship' },
            { transition: 'deliver' },
          ];
      }
    },
  },
  software_deployment: {
    tag: 'dep',
    count: 8,
    create: (i) => ({ data: { service: `svc-${i + 1}`, build: 100 + i, tests_passed: false } }),
    steps: (i) => {
      const staging: Step = {
        transition: 'promote_to_staging',
        data: { tests_passed: true },
        why: 'tests_passed true',
      };
      const production: Step = {
        transition: 'promote_to_production',
        metadata: { qa_approved_by: 'qa-team' },
        why: 'qa_approved_by set',
      };
      switch (i % 4) {
        case 0:
          return [
            {
              transition: 'promote_to_staging',
              refused: 'GUARD_FAILED',
              why: 'tests_passed false',
            },
          ];
        case 1:
          return [staging];
        case 2:
          return [
            staging,
            { transition: 'promote_to_production', refused: 'GUARD_FAILED', why: 'no QA approval' },
            production,
          ];
        default:
          return i < 4
            ? [staging, production, { transition: 'roll_back' }, { transition: 'restage' }]
            : [staging, production, { transition: 'start_hotfix' }];
      }
    },
  },
};

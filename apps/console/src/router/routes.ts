import { hrefOf } from './match';

/** The route table of the console contract (paths after /console). */
export const ROUTES = {
  workflows: '',
  signIn: 'sign-in',
  workflow: 'workflows/:wf',
  place: 'workflows/:wf/places/:place',
  token: 'workflows/:wf/tokens/:tok',
  newDefinition: 'definitions/new',
  newVersion: 'workflows/:wf/new-version',
} as const;

export type RouteName = keyof typeof ROUTES;

/** Links to every page, so no page spells another's path. */
export const links = {
  workflows: () => hrefOf(ROUTES.workflows),
  signIn: () => hrefOf(ROUTES.signIn),
  workflow: (wf: string, version?: number) =>
    hrefOf(ROUTES.workflow, { wf }) + (version !== undefined ? `?version=${version}` : ''),
  place: (wf: string, place: string) => hrefOf(ROUTES.place, { wf, place }),
  token: (wf: string, tok: string) => hrefOf(ROUTES.token, { wf, tok }),
  newDefinition: () => hrefOf(ROUTES.newDefinition),
  newVersion: (wf: string) => hrefOf(ROUTES.newVersion, { wf }),
};

import type { FunctionComponent } from 'preact';
import type { RouteName } from '../router';
import { NewDefinitionPage, NewVersionPage } from './definition-editor';
import { PlacePage } from './place';
import { TokenPage } from './token';
import { WorkflowPage } from './workflow-page';
import { WorkflowsListPage } from './workflows-list';

/** What every page gets: the route's decoded `:params` and the query string. */
export interface PageProps {
  params: Record<string, string>;
  search: URLSearchParams;
}

/**
 * Route → page. One line per page so the pages can be built apart:
 * the token, place and definition pages are placeholders here until their change lands.
 */
export const PAGES: Record<Exclude<RouteName, 'signIn'>, FunctionComponent<PageProps>> = {
  workflows: WorkflowsListPage,
  workflow: WorkflowPage,
  place: PlacePage,
  token: TokenPage,
  newDefinition: NewDefinitionPage,
  newVersion: NewVersionPage,
};

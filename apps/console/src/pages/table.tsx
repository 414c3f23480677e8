import type { FunctionComponent } from 'preact';
import type { RouteName } from '../router';
import { Placeholder } from './placeholder';
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
  place: ({ params }) => <Placeholder title={`Place ${params['place'] ?? ''}`} />,
  token: ({ params }) => <Placeholder title={`Token ${params['tok'] ?? ''}`} />,
  newDefinition: () => <Placeholder title="New workflow" />,
  newVersion: ({ params }) => <Placeholder title={`New version of ${params['wf'] ?? ''}`} />,
};

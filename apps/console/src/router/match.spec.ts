import { hrefOf, matchRoute } from './match';
import { ROUTES, links } from './routes';

describe('matchRoute', () => {
  it('matches the list at /console and /console/', () => {
    expect(matchRoute(ROUTES, '/console/')).toEqual({ route: 'workflows', params: {} });
    expect(matchRoute(ROUTES, '/console')).toEqual({ route: 'workflows', params: {} });
  });

  it('captures and decodes parameters', () => {
    expect(matchRoute(ROUTES, '/console/workflows/order_1/places/paid')).toEqual({
      route: 'place',
      params: { wf: 'order_1', place: 'paid' },
    });
    expect(matchRoute(ROUTES, '/console/workflows/a%20b/tokens/t-1')).toEqual({
      route: 'token',
      params: { wf: 'a b', tok: 't-1' },
    });
  });

  it('prefers literal routes listed before patterns and rejects the rest', () => {
    expect(matchRoute(ROUTES, '/console/workflows/w/new-version')?.route).toBe('newVersion');
    expect(matchRoute(ROUTES, '/console/definitions/new')?.route).toBe('newDefinition');
    expect(matchRoute(ROUTES, '/console/nope')).toBeUndefined();
    expect(matchRoute(ROUTES, '/consolex/')).toBeUndefined();
    expect(matchRoute(ROUTES, '/console/workflows/%E0%A4%A')).toBeUndefined();
  });

  it('builds links that match back', () => {
    const href = links.place('w x', 'p/1');
    expect(href).toBe('/console/workflows/w%20x/places/p%2F1');
    expect(matchRoute(ROUTES, href)?.params).toEqual({ wf: 'w x', place: 'p/1' });
    expect(hrefOf('')).toBe('/console/');
  });
});

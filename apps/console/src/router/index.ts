export { BASE, hrefOf, matchRoute, type RouteMatch } from './match';
export { ROUTES, links, type RouteName } from './routes';
export { Link, navigate, useLocation, type Location } from './history';

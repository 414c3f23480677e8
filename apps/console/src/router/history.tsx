import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Where the app is: pathname and query of the current history entry. */
export interface Location {
  pathname: string;
  search: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { pathname: location.pathname, search: new URLSearchParams(location.search) };
}

/** Go to an in-app URL (history API; the gateway answers index.html for every /console/ path). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
  if (!opts.replace) window.scrollTo(0, 0);
}

addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** The current location; re-renders on navigate and back/forward. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

type AnchorProps = JSX.HTMLAttributes<HTMLAnchorElement> & {
  href: string;
  children?: ComponentChildren;
};

/** An `<a>` that navigates in-app on a plain left click and stays a real link otherwise. */
export function Link({ href, onClick, ...rest }: AnchorProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (typeof onClick === 'function') onClick(e);
        if (
          e.defaultPrevented ||
          e.button !== 0 ||
          e.metaKey ||
          e.ctrlKey ||
          e.shiftKey ||
          e.altKey
        )
          return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}

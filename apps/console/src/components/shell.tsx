import type { ComponentChildren } from 'preact';
import { Link, links } from '../router';
import { useSession } from '../session-context';

/** The frame of every signed-in page: tenant, navigation, sign-out. */
export function Shell({
  onSignOut,
  children,
}: {
  onSignOut: () => void;
  children: ComponentChildren;
}) {
  const { session, can } = useSession();
  return (
    <div class="shell">
      <header class="top">
        <Link class="brand" href={links.workflows()}>
          Circuit Breaker
        </Link>
        <nav aria-label="main">
          <Link href={links.workflows()}>Workflows</Link>
          {can('workflows:write') ? <Link href={links.newDefinition()}>New workflow</Link> : null}
        </nav>
        <span class="tenant" title="tenant">
          tenant <strong>{session.tenant}</strong>
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}

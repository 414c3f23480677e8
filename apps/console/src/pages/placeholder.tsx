import { Link, links } from '../router';

/** A page another change fills in (helper E's token, place and definition pages). */
export function Placeholder({ title }: { title: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p>This page is not built yet.</p>
      <p>
        <Link href={links.workflows()}>Back to workflows</Link>
      </p>
    </section>
  );
}

import { asProblem } from '../api';

/**
 * Every API error the console shows: role="alert" (read out at once), the stable `code`, the
 * `detail`, and the failing paths of a validation error or a guard (`/data/amount: must be ≥ 1`).
 */
export function ProblemView({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  const p = asProblem(error);
  const more =
    p.failureCount !== undefined && p.failures && p.failureCount > p.failures.length
      ? p.failureCount - p.failures.length
      : 0;
  return (
    <div class="problem" role="alert">
      {title ? <p class="problem-title">{title}</p> : null}
      <p>
        <code class="problem-code">{p.code}</code> <span class="problem-detail">{p.detail}</span>
      </p>
      {p.failures && p.failures.length > 0 ? (
        <ul class="problem-paths" aria-label="failing paths">
          {p.failures.map((f, i) => (
            <li key={i}>
              <code>{f.path || '(root)'}</code> {f.message}
            </li>
          ))}
          {more > 0 ? <li>and {more} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}

import { navigate } from '../router';
import type { GraphLayout } from './layout';

/**
 * The workflow graph as SVG text and shapes (not pixels), so tests and screen readers read it:
 * `<g data-place>` per place with its id and live count (`<text data-count>`), a link to the
 * place's page; `<g data-transition>` per transition with its id, `data-guarded` / `data-timed`
 * and a badge for each. The viewBox scales it to the width of the page.
 */
export function GraphView({
  workflowId,
  layout,
  counts,
  placeHref,
}: {
  workflowId: string;
  layout: GraphLayout;
  /** Undefined until the first read: counts show “…”, not a made-up 0. */
  counts: Readonly<Record<string, number>> | undefined;
  placeHref: (place: string) => string;
}) {
  const pad = 8;
  const vb = `${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`;
  return (
    <div class="graph-wrap">
      <svg
        class="graph"
        role="img"
        aria-label={`graph of ${workflowId}`}
        viewBox={vb}
        preserveAspectRatio="xMidYMin meet"
        width={layout.width + 2 * pad}
        height={layout.height + 2 * pad}
      >
        <defs>
          <marker
            id="cb-arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
          </marker>
        </defs>
        {layout.transitions.map((t) => (
          <g
            key={t.id}
            class="transition"
            data-transition={t.id}
            data-guarded={t.guarded ? 'true' : undefined}
            data-timed={t.timer ? 'true' : undefined}
          >
            <title>
              {`${t.id}: ${t.from.join(', ')} → ${t.to}${t.guarded ? ' (guarded)' : ''}${t.timer ? ` (timed, ${t.timer})` : ''}${t.description ? ` — ${t.description}` : ''}`}
            </title>
            {t.paths.map((p) => (
              <path
                key={p.from}
                class="edge"
                d={p.points.map((pt, i) => `${i === 0 ? 'M' : 'L'} ${pt.x} ${pt.y}`).join(' ')}
                marker-end="url(#cb-arrow)"
              />
            ))}
            <text class="edge-label" x={t.label.x} y={t.label.y} text-anchor="middle">
              <tspan>{t.id}</tspan>
              {t.guarded ? (
                <tspan class="badge-guard" dx="4">
                  guard
                </tspan>
              ) : null}
              {t.timer ? (
                <tspan class="badge-timer" dx="4">
                  timer
                </tspan>
              ) : null}
            </text>
          </g>
        ))}
        {layout.nodes.map((n) => {
          const href = placeHref(n.id);
          const count = counts ? String(counts[n.id] ?? 0) : '…';
          const marks = [
            n.initial ? 'initial' : '',
            n.final ? 'final' : '',
            n.unreachable ? 'unreachable' : '',
            n.deadEnd ? 'dead end' : '',
          ].filter((m) => m !== '');
          return (
            <g
              key={n.id}
              class={`place${n.final ? ' final' : ''}${n.initial ? ' initial' : ''}${n.unreachable || n.deadEnd ? ' flagged' : ''}`}
              data-place={n.id}
              data-final={n.final ? 'true' : undefined}
              data-initial={n.initial ? 'true' : undefined}
            >
              <a
                href={href}
                aria-label={`place ${n.id}: ${count} tokens${marks.length ? ` (${marks.join(', ')})` : ''}`}
                onClick={(e) => {
                  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
                  e.preventDefault();
                  navigate(href);
                }}
              >
                <rect
                  x={n.x - n.width / 2}
                  y={n.y - n.height / 2}
                  width={n.width}
                  height={n.height}
                  rx="8"
                />
                {n.final ? (
                  <rect
                    class="final-ring"
                    x={n.x - n.width / 2 + 3}
                    y={n.y - n.height / 2 + 3}
                    width={n.width - 6}
                    height={n.height - 6}
                    rx="6"
                  />
                ) : null}
                <text class="place-id" x={n.x} y={n.y - 6} text-anchor="middle">
                  {n.id}
                </text>
                <text
                  class="place-count"
                  x={n.x}
                  y={n.y + 14}
                  text-anchor="middle"
                  data-count={n.id}
                >
                  {count}
                </text>
              </a>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

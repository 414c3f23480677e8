/**
 * Small inline SVG charts (no chart library): horizontal bars with the values written beside
 * them, so a chart is also its own table of numbers for a screen reader or a test.
 */
export interface BarItem {
  label: string;
  value: number;
}

const ROW = 22;
const LABEL_W = 150;
const VALUE_W = 70;
const BAR_W = 220;

export function BarChart({
  title,
  items,
  format = (v) => String(v),
}: {
  title: string;
  items: readonly BarItem[];
  format?: (v: number) => string;
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  const width = LABEL_W + BAR_W + VALUE_W;
  const height = Math.max(ROW, items.length * ROW);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {items.length === 0 ? (
        <p class="muted">nothing yet</p>
      ) : (
        <svg
          role="img"
          aria-label={`${title}: ${items.map((i) => `${i.label} ${format(i.value)}`).join(', ')}`}
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
        >
          {items.map((item, i) => {
            const w = Math.round((item.value / max) * BAR_W);
            const y = i * ROW;
            return (
              <g key={item.label}>
                <text class="chart-label" x={LABEL_W - 6} y={y + 15} text-anchor="end">
                  {item.label.length > 20 ? `${item.label.slice(0, 19)}…` : item.label}
                </text>
                <rect
                  class="chart-bar"
                  x={LABEL_W}
                  y={y + 4}
                  width={Math.max(w, item.value > 0 ? 2 : 0)}
                  height={ROW - 8}
                />
                <text class="chart-value" x={LABEL_W + w + 6} y={y + 15}>
                  {format(item.value)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}

export interface ColumnItem {
  label: string;
  a: number;
  b: number;
}

/** Paired columns over time (tokens created vs completed per hour of the window). */
export function ColumnChart({
  title,
  items,
  aName,
  bName,
}: {
  title: string;
  items: readonly ColumnItem[];
  aName: string;
  bName: string;
}) {
  const max = Math.max(1, ...items.map((i) => Math.max(i.a, i.b)));
  const colW = 8;
  const gap = 4;
  const h = 90;
  const width = Math.max(120, items.length * (2 * colW + gap));
  const sumA = items.reduce((s, i) => s + i.a, 0);
  const sumB = items.reduce((s, i) => s + i.b, 0);
  return (
    <figure class="chart">
      <figcaption>
        {title}: {sumA} {aName}, {sumB} {bName}
      </figcaption>
      <svg
        role="img"
        aria-label={`${title}: ${sumA} ${aName}, ${sumB} ${bName} over ${items.length} hours`}
        viewBox={`0 0 ${width} ${h + 14}`}
        width={width}
        height={h + 14}
      >
        {items.map((item, i) => {
          const x = i * (2 * colW + gap);
          const ha = Math.round((item.a / max) * h);
          const hb = Math.round((item.b / max) * h);
          return (
            <g key={item.label}>
              <title>{`${item.label}: ${item.a} ${aName}, ${item.b} ${bName}`}</title>
              <rect class="col-a" x={x} y={h - ha} width={colW} height={ha} />
              <rect class="col-b" x={x + colW} y={h - hb} width={colW} height={hb} />
            </g>
          );
        })}
        <line class="axis" x1="0" y1={h + 0.5} x2={width} y2={h + 0.5} />
        <text class="chart-label" x="0" y={h + 12}>
          {items[0]?.label ?? ''}
        </text>
        <text class="chart-label" x={width} y={h + 12} text-anchor="end">
          {items[items.length - 1]?.label ?? ''}
        </text>
      </svg>
      <p class="legend">
        <span class="key-a">■</span> {aName} <span class="key-b">■</span> {bName}
      </p>
    </figure>
  );
}

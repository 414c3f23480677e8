import dagre from '@dagrejs/dagre';
import type { GraphModel, PlaceNode, TransitionEdge } from './model';

/**
 * Positions for the SVG, from dagre (a layered layout, left to right): a box per place sized to
 * its label, one routed polyline per (source place, transition) with room for the label, which
 * is drawn once per transition at its first edge's label point.
 */
export interface PlacedNode extends PlaceNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedTransition extends TransitionEdge {
  /** One polyline per source place. */
  paths: { from: string; points: { x: number; y: number }[] }[];
  label: { x: number; y: number };
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  transitions: PlacedTransition[];
}

const CHAR_W = 7.5;
export const NODE_H = 52;
const LABEL_H = 18;

export function labelWidth(text: string): number {
  return Math.ceil(text.length * CHAR_W) + 8;
}

export function layoutGraph(model: GraphModel, rankdir: 'LR' | 'TB' = 'LR'): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir, nodesep: 28, ranksep: 70, edgesep: 14, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const p of model.places) {
    g.setNode(p.id, { width: Math.max(90, labelWidth(p.id) + 16), height: NODE_H });
  }
  const known = new Set(model.places.map((p) => p.id));
  for (const t of model.transitions) {
    const label = t.id + (t.guarded ? ' [guard]' : '') + (t.timer ? ' [timer]' : '');
    t.from.forEach((from, i) => {
      if (!known.has(from) || !known.has(t.to)) return;
      g.setEdge(
        from,
        t.to,
        i === 0 ? { width: labelWidth(label), height: LABEL_H, labelpos: 'c' } : {},
        `${t.id}\u0000${from}`,
      );
    });
  }
  dagre.layout(g);
  const nodes: PlacedNode[] = model.places.map((p) => {
    const n = g.node(p.id) as { x: number; y: number; width: number; height: number };
    return { ...p, x: n.x, y: n.y, width: n.width, height: n.height };
  });
  const transitions: PlacedTransition[] = model.transitions.map((t) => {
    const paths: PlacedTransition['paths'] = [];
    let label: { x: number; y: number } | undefined;
    for (const from of t.from) {
      const e = g.edge(from, t.to, `${t.id}\u0000${from}`) as
        { points?: { x: number; y: number }[]; x?: number; y?: number } | undefined;
      if (!e?.points) continue;
      paths.push({ from, points: e.points.map((pt) => ({ x: pt.x, y: pt.y })) });
      if (!label && e.x !== undefined && e.y !== undefined) label = { x: e.x, y: e.y };
    }
    if (!label) {
      const mid = paths[0]?.points[Math.floor((paths[0]?.points.length ?? 0) / 2)];
      label = mid ?? { x: 0, y: 0 };
    }
    return { ...t, paths, label };
  });
  const graph = g.graph() as { width?: number; height?: number };
  return {
    width: Math.max(1, Math.ceil(graph.width ?? 1)),
    height: Math.max(1, Math.ceil(graph.height ?? 1)),
    nodes,
    transitions,
  };
}

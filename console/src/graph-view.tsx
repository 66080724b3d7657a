// A journey drawn as SVG: the layout from dagre (top to bottom), the live counts from
// graph-stats.ts on every node and edge. Nodes are focusable and labelled for screen readers.
import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import type { GraphNode, JourneyGraph } from '../../libs/journey/graph.js';
import type { GraphCounts } from './graph-stats.js';
import { percent } from './graph-stats.js';

const NODE_W = 230;
const NODE_H = 86;

const KIND_LABEL: Record<GraphNode['kind'], string> = {
  trigger: 'Trigger',
  hold_until: 'Hold until',
  delay: 'Delay',
  data_split: 'Data split',
  random_split: 'Random split',
  send: 'Send',
  exit: 'Exit',
  end: 'End',
  exit_rules: 'Exit rules',
};

interface Laid {
  nodes: Array<{ node: GraphNode; x: number; y: number }>;
  edges: Array<{
    index: number;
    points: Array<{ x: number; y: number }>;
    loop: boolean;
    lx: number;
    ly: number;
  }>;
  width: number;
  height: number;
}

function lay(graph: JourneyGraph): Laid {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, edgesep: 20, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  graph.edges.forEach((e, i) => {
    g.setEdge(
      e.from,
      e.to,
      { width: Math.max(60, e.label.length * 7), height: 34, labelpos: 'c' },
      String(i),
    );
  });
  layout(g);
  const nodes = graph.nodes.map((node) => {
    const n = g.node(node.id) as { x: number; y: number };
    return { node, x: n.x - NODE_W / 2, y: n.y - NODE_H / 2 };
  });
  const edges = graph.edges.map((e, index) => {
    if (e.from === e.to) {
      const n = g.node(e.from) as { x: number; y: number };
      const right = n.x + NODE_W / 2;
      const points = [
        { x: right, y: n.y - 16 },
        { x: right + 36, y: n.y - 24 },
        { x: right + 36, y: n.y + 24 },
        { x: right, y: n.y + 16 },
      ];
      return { index, points, loop: true, lx: right + 36 + 74, ly: n.y };
    }
    const label = g.edge({ v: e.from, w: e.to, name: String(index) }) as {
      points?: Array<{ x: number; y: number }>;
      x?: number;
      y?: number;
    };
    const points = label.points ?? [];
    return { index, points, loop: false, lx: label.x ?? points[0]?.x ?? 0, ly: label.y ?? points[0]?.y ?? 0 };
  });
  const info = g.graph() as { width?: number; height?: number };
  const loopRight = Math.max(0, ...edges.filter((e) => e.loop).map((e) => e.lx + 80));
  return { nodes, edges, width: Math.max(info.width ?? 400, loopRight), height: info.height ?? 300 };
}

function pathOf(points: Array<{ x: number; y: number }>, loop: boolean): string {
  if (points.length === 0) return '';
  if (loop && points.length === 4) {
    const [a, b, c, d] = points as [Point, Point, Point, Point];
    return `M${a.x},${a.y} C${b.x},${b.y} ${c.x},${c.y} ${d.x},${d.y}`;
  }
  const [first, ...rest] = points;
  return `M${first!.x},${first!.y} ` + rest.map((p) => `L${p.x},${p.y}`).join(' ');
}

type Point = { x: number; y: number };

const testIdOf = (id: string) => id.replace(/^@/, '');

export function GraphView(props: { graph: JourneyGraph; counts: GraphCounts | null; title: string }) {
  const laid = useMemo(() => lay(props.graph), [props.graph]);
  const { counts } = props;
  return (
    <figure class="graph" aria-label={props.title}>
      <svg
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        width={laid.width}
        height={laid.height}
        role="img"
        aria-label={`${props.title}: ${props.graph.nodes.length} nodes, ${props.graph.edges.length} edges`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {laid.edges.map(({ index, points, loop, lx, ly }) => {
          const edge = props.graph.edges[index]!;
          const c = counts?.edges[index];
          const text = edge.label || 'next';
          const from = testIdOf(edge.from);
          return (
            <g
              key={index}
              class="edge"
              data-testid={`edge-${from}-${edge.branch ?? testIdOf(edge.to)}`}
              data-count={c?.count}
            >
              <path d={pathOf(points, loop)} marker-end="url(#arrow)" />
              <rect x={lx - 70} y={ly - 17} width={140} height={34} rx={4} class="edge-label-bg" />
              <text x={lx} y={ly - 3} text-anchor="middle" class="edge-label">
                {text.length > 22 ? text.slice(0, 21) + '…' : text}
              </text>
              {c && (
                <text x={lx} y={ly + 12} text-anchor="middle" class="edge-count">
                  {c.count} · {percent(c.conversion)}
                </text>
              )}
              <title>
                {`${edge.from} → ${edge.to}${edge.label ? ` (${edge.label})` : ''}` +
                  (c
                    ? `: ${c.count} took it, ${percent(c.conversion)} of those who reached ${edge.from}`
                    : '')}
              </title>
            </g>
          );
        })}
        {laid.nodes.map(({ node, x, y }) => {
          const c = counts?.nodes[node.id];
          const summary =
            `${KIND_LABEL[node.kind]} ${node.label}: ${node.detail}` +
            (c
              ? `. Reached ${c.entered} (${percent(c.ofEntry)} of entries)` +
                (c.current ? `, ${c.current} waiting now` : '') +
                (c.sent !== undefined ? `, ${c.sent} sent, ${c.failed} failed` : '')
              : '');
          return (
            <g
              key={node.id}
              class={`node node-${node.kind}`}
              transform={`translate(${x},${y})`}
              tabindex={0}
              role="group"
              aria-label={summary}
              data-testid={`node-${testIdOf(node.id)}`}
              data-entered={c?.entered}
              data-current={c?.current}
            >
              <rect width={NODE_W} height={NODE_H} rx={8} />
              <text x={10} y={18} class="node-kind">
                {KIND_LABEL[node.kind]}
              </text>
              <text x={10} y={36} class="node-label">
                {node.label.length > 28 ? node.label.slice(0, 27) + '…' : node.label}
              </text>
              <text x={10} y={52} class="node-detail">
                {node.detail.length > 36 ? node.detail.slice(0, 35) + '…' : node.detail}
              </text>
              {c && (
                <text x={10} y={67} class="node-count">
                  {c.entered} reached · {percent(c.ofEntry)} of entries
                </text>
              )}
              {c && (c.current > 0 || c.sent !== undefined) && (
                <text x={10} y={81} class="node-count">
                  {[
                    c.current > 0 ? `${c.current} waiting now` : '',
                    c.sent !== undefined ? `${c.sent} sent, ${c.failed} failed` : '',
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </text>
              )}
              <title>{summary}</title>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

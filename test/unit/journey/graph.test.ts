// The journey graph (document -> nodes and edges) and the console's stats overlay on it.
import t from 'tap';
import { journeyGraph, nextsOf, type JourneyGraph } from '../../../libs/journey/index.js';
import type { JourneyStats } from '../../../libs/insight/index.js';
import { graphCounts, percent } from '../../../console/src/graph-stats.js';
import { journeyFrom } from './engine-helpers.js';

const YAML = `
id: g
name: Graph
trigger: { event: checkout_started }
entry: { mode: once }
exit:
  rules: [{ event: account_deleted }]
  send: { to: [crm], event: Bye }
steps:
  - id: hold
    type: hold_until
    branches:
      - { id: edit, event: cart_modified, restart: true }
      - { id: bought, event: purchase_completed, next: thanks }
    timeout: { after: 2h }
  - { id: wait, type: delay, after: 1d }
  - id: split
    type: data_split
    branches: [{ id: vip, where: { profile.traits.vip: true }, next: out }]
  - id: ab
    type: random_split
    branches: [{ id: a, weight: 25 }, { id: b, weight: 75, next: out }]
  - { id: nudge, type: send, to: [crm, ads], event: Nudge, next: out }
  - { id: out, type: exit }
  - { id: thanks, type: send, to: [crm], event: Thanks }
`;

const edgesOf = (g: JourneyGraph) => g.edges.map((e) => `${e.from} -${e.branch ?? ''}-> ${e.to}`);

void t.test('every step is a node, every transition an edge, resolved like the compiler', (t) => {
  const compiled = journeyFrom(YAML);
  const graph = journeyGraph(compiled.doc);
  t.same(
    graph.nodes.map((n) => [n.id, n.kind]),
    [
      ['@trigger', 'trigger'],
      ['hold', 'hold_until'],
      ['wait', 'delay'],
      ['split', 'data_split'],
      ['ab', 'random_split'],
      ['nudge', 'send'],
      ['out', 'exit'],
      ['thanks', 'send'],
      ['@end', 'end'],
      ['@exit-rules', 'exit_rules'],
    ],
  );
  t.same(edgesOf(graph), [
    '@trigger --> hold',
    'hold -edit-> hold',
    'hold -bought-> thanks',
    'hold -timeout-> wait',
    'wait --> split',
    'split -vip-> out',
    'split -else-> ab',
    'ab -a-> nudge',
    'ab -b-> out',
    'nudge --> out',
    'thanks --> @end',
  ]);
  // The same transitions as the compiler's resolution (restart edges stay in their hold).
  for (const step of Object.values(compiled.steps)) {
    const fromGraph = graph.edges.filter((e) => e.from === step.id && e.to !== step.id).map((e) => e.to);
    const fromCompiler = nextsOf(step).map((n) => n ?? '@end');
    t.same(fromGraph, fromCompiler, `edges of ${step.id}`);
  }
  const labels = Object.fromEntries(graph.edges.map((e) => [`${e.from}/${e.branch ?? ''}`, e.label]));
  t.equal(labels['hold/timeout'], 'timeout 2h');
  t.equal(labels['hold/edit'], 'edit: cart_modified (restart)');
  t.equal(labels['ab/b'], 'b (75%)');
  const detail = Object.fromEntries(graph.nodes.map((n) => [n.id, n.detail]));
  t.equal(detail['nudge'], 'send Nudge to crm, ads');
  t.equal(detail['@exit-rules'], 'exit on account_deleted (send to crm)');
  t.end();
});

void t.test('a journey without steps goes from its trigger to the end; no exit rules, no node', (t) => {
  const graph = journeyGraph(
    journeyFrom('id: t\nname: T\ntrigger: { event: go }\nentry: { mode: once }\nsteps: []\n').doc,
  );
  t.same(
    graph.nodes.map((n) => n.id),
    ['@trigger', '@end'],
  );
  t.same(edgesOf(graph), ['@trigger --> @end']);
  t.end();
});

void t.test('the stats land on their nodes and edges, with conversions', (t) => {
  const graph = journeyGraph(journeyFrom(YAML).doc);
  const stats: JourneyStats = {
    journeyId: 'g',
    version: 1,
    shadow: false,
    window: { since: null, until: 0 },
    entered: 10,
    refused: {},
    completed: 6,
    exited: { exit_rule: 1 },
    active: 3,
    steps: [
      {
        stepId: 'hold',
        type: 'hold_until',
        entered: 10,
        current: 2,
        branches: { bought: 3, timeout: 4, edit: 5 },
      },
      { stepId: 'wait', type: 'delay', entered: 4, current: 1 },
      { stepId: 'split', type: 'data_split', entered: 3, current: 0, branches: { vip: 1, else: 2 } },
      { stepId: 'ab', type: 'random_split', entered: 2, current: 0, branches: { a: 2 } },
      {
        stepId: 'nudge',
        type: 'send',
        entered: 2,
        current: 0,
        sends: { crm: { sent: 2, failed: 0 }, ads: { sent: 1, failed: 1 } },
      },
      { stepId: 'thanks', type: 'send', entered: 3, current: 0, sends: { crm: { sent: 3, failed: 0 } } },
      { stepId: 'out', type: 'exit', entered: 3, current: 0 },
    ],
  };
  const counts = graphCounts(graph, stats);
  t.same(counts.nodes['@trigger'], { entered: 10, current: 0, ofEntry: 1 });
  t.same(counts.nodes['hold'], { entered: 10, current: 2, ofEntry: 1 });
  t.same(counts.nodes['nudge'], { entered: 2, current: 0, ofEntry: 0.2, sent: 3, failed: 1 });
  t.same(counts.nodes['@exit-rules'], { entered: 1, current: 0, ofEntry: 0.1 });
  // The end: what its one edge (thanks -> @end) brought, not the stats' completions.
  t.same(counts.nodes['@end'], { entered: 3, current: 0, ofEntry: 0.3 });
  const byEdge = Object.fromEntries(
    graph.edges.map((e, i) => [`${e.from}/${e.branch ?? e.to}`, counts.edges[i]]),
  );
  t.same(byEdge['@trigger/hold'], { count: 10, conversion: 1 });
  t.same(byEdge['hold/bought'], { count: 3, conversion: 0.3 });
  t.same(byEdge['hold/timeout'], { count: 4, conversion: 0.4 });
  t.same(byEdge['wait/split'], { count: 3, conversion: 0.75 }, 'a single way on: entered minus waiting');
  t.same(byEdge['split/else'], { count: 2, conversion: 2 / 3 });
  t.same(byEdge['ab/b'], { count: 0, conversion: 0 }, 'a branch nobody took');
  t.equal(percent(byEdge['split/else']?.conversion ?? null), '67%');
  t.equal(percent(null), '–');
  t.end();
});

void t.test('no stats for a step: zeros and no conversion', (t) => {
  const graph = journeyGraph(journeyFrom(YAML).doc);
  const counts = graphCounts(graph, {
    journeyId: 'g',
    version: 1,
    shadow: false,
    window: { since: null, until: 0 },
    entered: 0,
    refused: {},
    completed: 0,
    exited: {},
    active: 0,
    steps: [],
  });
  t.same(counts.nodes['hold'], { entered: 0, current: 0, ofEntry: null });
  t.same(counts.edges[1], { count: 0, conversion: null });
  t.end();
});

void t.test('node details: a delay until a time, with or without an offset; a sticky split', (t) => {
  const graph = journeyGraph(
    journeyFrom(`
id: d
name: D
trigger: { event: booked }
entry: { mode: once }
steps:
  - { id: before, type: delay, until: entry.properties.at, offset: -1h }
  - { id: after, type: delay, until: entry.properties.at, offset: 2h }
  - { id: at, type: delay, until: entry.properties.at }
  - id: ab
    type: random_split
    sticky: true
    branches: [{ id: a, weight: 50 }, { id: b, weight: 50 }]
`).doc,
  );
  const detail = Object.fromEntries(graph.nodes.map((n) => [n.id, n.detail]));
  t.equal(detail['before'], 'wait until entry.properties.at - 1h');
  t.equal(detail['after'], 'wait until entry.properties.at + 2h');
  t.equal(detail['at'], 'wait until entry.properties.at');
  t.equal(detail['ab'], 'random split, 2 ways, sticky');
  t.end();
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { createMetrics } from './metrics.ts';

const dashboardFile = new URL('../../../deploy/grafana/orderstream.json', import.meta.url);

interface Panel {
  type: string;
  title: string;
  id: number;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** PromQL words that are not metric names. */
const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'Inf', 'NaN']);

/**
 * The metric names a PromQL expression reads: identifiers left once strings, label matchers, range
 * selectors and grouping clauses are removed, other than function calls and keywords.
 */
export function metricNamesIn(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (name === undefined || call !== undefined || keywords.has(name)) continue;
    names.push(name);
  }
  return names;
}

/** Every series name the app's registry exports: histograms as _bucket/_sum/_count, summaries as _sum/_count and quantiles. */
function exportedSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    const type = String(metric.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}

async function dashboardPanels(): Promise<Panel[]> {
  const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string }[] } };
  assert.equal(dashboard.uid, 'orderstream');
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

describe('the Grafana dashboard', () => {
  test('when its PromQL is read, then every expression names only metrics the app exports', async () => {
    const exported = exportedSeriesNames();
    const panels = await dashboardPanels();
    const expressions = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })));
    assert.ok(expressions.length >= 20, `${expressions.length} expressions`);
    for (const { panel, expr } of expressions) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `"${panel}" reads some metric: ${expr}`);
      for (const name of names) assert.ok(exported.has(name), `"${panel}" reads ${name}, which the app does not export: ${expr}`);
    }
  });

  test('when the app exports an OrderStream metric, then some panel shows it', async () => {
    const panels = await dashboardPanels();
    const read = new Set(panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNamesIn(target.expr ?? ''))));
    const shown = (name: string) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`].some((series) => read.has(series));
    const own = createMetrics({ processMetrics: false }).registry.getMetricsAsArray().map((metric) => metric.name);
    for (const name of own) assert.ok(shown(name), `add a panel for ${name} to deploy/grafana/orderstream.json`);
  });

  test('when panels are laid out, then every one that queries has a unique id and a title, and every query has a refId', async () => {
    const panels = await dashboardPanels();
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      assert.ok(panel.title.length > 0);
      assert.ok((panel.targets ?? []).length > 0, `"${panel.title}" has a query`);
    }
  });

  test('when an expression names a function, a label or a number, then the parser does not take it for a metric', () => {
    assert.deepEqual(
      metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route="/v1/orders",job=~"$job"}[$__rate_interval]))) / clamp_min(b_total offset 5m, 1e-9) > bool 2'),
      ['a_bucket', 'b_total'],
    );
  });
});

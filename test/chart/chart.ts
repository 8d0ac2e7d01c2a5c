import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { runTool, type ToolResult } from '../support/tools.ts';

export const repo = resolve(import.meta.dirname, '../..');
export const chartDir = join(repo, 'charts/stowage');
export const release = 'stowage';

/** The `ci/*-values.yaml` scenarios, by file name. */
export const scenarios = readdirSync(join(chartDir, 'ci'))
  .filter((file) => file.endsWith('-values.yaml'))
  .sort();

export const scenarioFile = (scenario: string) => join(chartDir, 'ci', scenario);

let helmHome: string | undefined;

/** Runs helm with its cache, config and data in a throw-away directory, never the user's. */
export function helm(...args: string[]): Promise<ToolResult> {
  if (!helmHome) {
    const home = mkdtempSync(join(tmpdir(), 'chart-test-helm-'));
    process.once('exit', () => rmSync(home, { recursive: true, force: true }));
    helmHome = home;
  }
  return runTool('helm', args, {
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  });
}

export interface RenderOptions {
  /** Values files, applied in order. */
  values?: string[];
  /** `--set` expressions. */
  set?: string[];
  namespace?: string;
  /** Also render the chart's crds/ directory. */
  includeCrds?: boolean;
}

/** `helm template` arguments for a render of the chart. */
export function templateArgs({ values = [], set = [], namespace = 'stowage', includeCrds }: RenderOptions) {
  return [
    'template',
    release,
    chartDir,
    '--namespace',
    namespace,
    ...(includeCrds ? ['--include-crds'] : []),
    ...values.flatMap((file) => ['--values', file]),
    ...set.flatMap((expression) => ['--set', expression]),
  ];
}

/**
 * Parses helm's output into plain objects, exactly as rendered. (loadAllYaml would map them onto the
 * client's models, which drop fields they do not know: a misspelt field would vanish before any check.)
 * YAML 1.1, as the apiserver reads it: an unquoted `on` is a boolean there too.
 */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text, { version: '1.1' }).map((document) => {
    if (document.errors.length > 0) throw document.errors[0];
    return document.toJS() as KubernetesObject;
  });
}

// helm's output per argument list: tests in a file render the same scenarios again and again. Each
// caller still gets objects of its own, parsed afresh.
const templates = new Map<string, Promise<ToolResult>>();

/** Renders the chart and parses every manifest; throws with helm's message when rendering fails. */
export async function render(options: RenderOptions = {}): Promise<KubernetesObject[]> {
  const args = templateArgs(options);
  const key = JSON.stringify(args);
  if (!templates.has(key)) templates.set(key, helm(...args));
  const result = await templates.get(key)!;
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

export const renderScenario = (scenario: string, options: RenderOptions = {}) =>
  render({ ...options, values: [scenarioFile(scenario), ...(options.values ?? [])] });

export const ofKind = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string): T[] =>
  objects.filter((object) => object.kind === kind) as T[];

/** The one object of a kind and name; throws if there is none. */
export function find<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found as T;
}

/** The name the chart gives every object of a component. */
export const componentName = (component: string) => `${release}-${component}`;

/** KEDA's ScaledObject, as far as the tests read it. */
export interface ScaledObject extends KubernetesObject {
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}

/** True when every label of `selector` is on `labels`. */
export const selects = (selector: Record<string, string> = {}, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);

interface Panel {
  id: number;
  title: string;
  targets?: { refId: string; expr: string }[];
  /** A collapsed row's panels. */
  panels?: Panel[];
}

/** The parts of a Grafana dashboard's JSON the tests read. */
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

export interface PanelQuery {
  panel: string;
  id: number;
  refId: string;
  expr: string;
}

/** Every query of every panel, collapsed rows included. */
export const panelQueries = (dashboard: Dashboard): PanelQuery[] =>
  dashboard.panels
    .flatMap((panel) => [panel, ...(panel.panels ?? [])])
    .flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({ panel: panel.title, id: panel.id, refId: t.refId, expr: t.expr })),
    );

const intervalVariables = new Set(['__rate_interval', '__interval', '__range']);

/**
 * Grafana's interval variables, as `window` (a PromQL duration). Other variables are left for the caller
 * to find: the Prometheus data source is the only one these dashboards need.
 */
export const withIntervals = (expr: string, window: string) =>
  expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => (intervalVariables.has(name) ? window : whole));

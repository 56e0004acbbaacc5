import * as schema from '@grafana/schema';
import { Select, render } from './influxql';

/** The provisioned InfluxDB data source (grafana/provisioning/datasources/influxdb.yaml). */
export const DATASOURCE = { type: 'influxdb', uid: 'dustwatch-influxdb' } as const;

/*
 * The dashboards' model, declared as narrowings of Grafana's own published types
 * (@grafana/schema, the classic dashboard JSON model): if a field here drifts from what Grafana
 * accepts, these declarations stop compiling. Grafana cannot run on this machine; the compiler
 * stands in for it where it can.
 */

/** A query; a type alias, not an interface, so it is assignable to the schema's `Record<string, unknown>` targets. */
export type Target = {
  refId: string;
  datasource: typeof DATASOURCE;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
};

export interface FieldDefaults extends schema.FieldConfig {
  thresholds?: schema.ThresholdsConfig;
  color?: schema.FieldColor;
}

export interface Panel extends schema.Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'geomap' | 'text';
  title: string;
  description?: string;
  gridPos: schema.GridPos;
  datasource: typeof DATASOURCE;
  targets: Target[];
  fieldConfig: schema.FieldConfigSource & { defaults: FieldDefaults };
  options: Record<string, unknown>;
  transformations?: schema.DataTransformerConfig[];
}

export interface Variable extends schema.VariableModel {
  name: string;
  label: string;
  type: schema.VariableType;
  query: string;
}

/** InfluxDB annotation queries carry their InfluxQL and which columns hold the text and tags. */
export interface Annotation extends schema.AnnotationQuery {
  name: string;
  iconColor: string;
  query?: string;
  textColumn?: string;
  tagsColumn?: string;
}

/** Every target is also a Grafana `DataQuery` (refId, datasource): checked here, once. */
export const asDataQuery = (t: Target): schema.DataQuery => t;

export interface Dashboard extends schema.Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'Asia/Shanghai';
  schemaVersion: 39;
  version: 1;
  editable: false;
  refresh: string;
  time: { from: string; to: string };
  links: schema.DashboardLink[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
  panels: Panel[];
}

/** Queries are written once, typed, and rendered to InfluxQL text for Grafana. */
export function target(
  refId: string,
  select: Select | string,
  resultFormat: Target['resultFormat'] = 'time_series',
  alias?: string,
): Target {
  return {
    refId,
    datasource: DATASOURCE,
    rawQuery: true,
    query: typeof select === 'string' ? select : render(select),
    resultFormat,
    ...(alias ? { alias } : {}),
  };
}

export function thresholds(...steps: [string, number | null][]): FieldDefaults['thresholds'] {
  return { mode: schema.ThresholdsMode.Absolute, steps: steps.map(([color, value]) => ({ color, value })) };
}

/** Colours by the default rule set (docs/rules.md): green below the clear level, orange at warning, red at critical. */
export const PM10_STEPS = thresholds(['green', null], ['yellow', 120], ['orange', 150], ['red', 250]);
export const PM25_STEPS = thresholds(['green', null], ['yellow', 75], ['orange', 115], ['red', 150]);
export const TSP_STEPS = thresholds(['green', null], ['yellow', 700], ['red', 800]);
export const NOISE_STEPS = thresholds(['green', null], ['orange', 55], ['red', 70]);

let nextId = 1;
export function panel(
  p: Omit<Panel, 'id' | 'datasource' | 'fieldConfig' | 'options'> & {
    defaults?: FieldDefaults;
    overrides?: Panel['fieldConfig']['overrides'];
    options?: Record<string, unknown>;
  },
): Panel {
  const { defaults, overrides, options, ...rest } = p;
  return {
    id: nextId++,
    datasource: DATASOURCE,
    fieldConfig: { defaults: defaults ?? {}, overrides: overrides ?? [] },
    options: options ?? {},
    ...rest,
  };
}

export function resetPanelIds(): void {
  nextId = 1;
}

export function dashboard(
  d: Pick<Dashboard, 'uid' | 'title' | 'description' | 'refresh' | 'time'> & {
    links?: schema.DashboardLink[];
    variables?: Variable[];
    annotations?: Annotation[];
    panels: Panel[];
  },
): Dashboard {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['dustwatch'],
    timezone: 'Asia/Shanghai',
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: d.refresh,
    time: d.time,
    links: d.links ?? [],
    templating: { list: d.variables ?? [] },
    annotations: {
      list: [
        {
          name: 'Annotations & Alerts',
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          builtIn: 1,
          type: 'dashboard',
        },
        ...(d.annotations ?? []),
      ],
    },
    panels: d.panels,
  };
}

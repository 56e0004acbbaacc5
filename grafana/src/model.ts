import { Select, render } from './influxql';

/** The provisioned InfluxDB data source (grafana/provisioning/datasources/influxdb.yaml). */
export const DATASOURCE = { type: 'influxdb', uid: 'dustwatch-influxdb' } as const;

export interface Target {
  refId: string;
  datasource: typeof DATASOURCE;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

export interface ThresholdStep {
  color: string;
  value: number | null;
}

export interface FieldDefaults {
  unit?: string;
  decimals?: number;
  min?: number;
  thresholds?: { mode: 'absolute'; steps: ThresholdStep[] };
  color?: { mode: 'thresholds' | 'palette-classic' };
  custom?: Record<string, unknown>;
  displayName?: string;
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'geomap' | 'text';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof DATASOURCE;
  targets: Target[];
  fieldConfig: {
    defaults: FieldDefaults;
    overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
  options: Record<string, unknown>;
  transformations?: { id: string; options: Record<string, unknown> }[];
}

export interface Variable {
  name: string;
  label: string;
  type: 'query' | 'custom';
  datasource?: typeof DATASOURCE;
  query: string;
  refresh?: 1 | 2;
  includeAll?: boolean;
  multi?: boolean;
  current?: { text: string; value: string };
  options?: { text: string; value: string; selected: boolean }[];
}

export interface Annotation {
  name: string;
  datasource: typeof DATASOURCE | { type: 'grafana'; uid: '-- Grafana --' };
  enable: boolean;
  iconColor: string;
  query?: string;
  textColumn?: string;
  tagsColumn?: string;
  builtIn?: 1;
  hide?: boolean;
  type?: 'dashboard';
}

export interface Dashboard {
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
  return { mode: 'absolute', steps: steps.map(([color, value]) => ({ color, value })) };
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

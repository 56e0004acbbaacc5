import { Dashboard, resetPanelIds } from './model';
import { compliance } from './dashboards/compliance';
import { fleetNow } from './dashboards/fleet-now';
import { site } from './dashboards/site';

/** Every provisioned dashboard; each builds with panel ids from 1. */
export const DASHBOARDS: readonly (() => Dashboard)[] = [fleetNow, site, compliance].map((build) => () => {
  resetPanelIds();
  return build();
});

export const dashboardJson = (d: Dashboard): string => JSON.stringify(d, null, 2) + '\n';

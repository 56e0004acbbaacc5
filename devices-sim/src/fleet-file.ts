import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FleetFile } from './fleet';
import { SimDevice } from './runner';

/** Reads a fleet file (the same one `dustwatch-admin import-fleet` takes) into simulated devices. */
export function loadFleetDevices(path: string): SimDevice[] {
  const fleet = parse(readFileSync(path, 'utf8')) as FleetFile;
  if (fleet?.version !== 1 || !Array.isArray(fleet.sites))
    throw new Error(`${path} is not a fleet file (version: 1, sites: [...]); see docs/fleet-file.md`);
  const devices: SimDevice[] = [];
  for (const site of fleet.sites) {
    for (const d of site.devices ?? []) {
      if (!d.secret)
        throw new Error(
          `${path}: device ${d.id} has no secret; the simulator connects with each device's own credentials`,
        );
      devices.push({
        id: d.id,
        siteId: site.id,
        district: site.district,
        kind: d.kind,
        areaM2: site.areaM2,
        secret: d.secret,
        ...(d.hj212 ? { hj212: d.hj212 } : {}),
      });
    }
  }
  return devices;
}

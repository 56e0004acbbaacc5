// Port contract suites: every store implementation runs them (libs/store-*/src/store-contract.spec.ts).
export * from './store-harness';
export * from './alert-store.contract';
export * from './outbox-store.contract';
export * from './quarantine-store.contract';
export * from './registry-store.contract';
export * from './people-store.contract';
export * from './report-store.contract';
export * from './rule-runner.contract';

import type { StoreHarness } from './store-harness';
import { alertStoreContract } from './alert-store.contract';
import { outboxStoreContract } from './outbox-store.contract';
import { quarantineStoreContract } from './quarantine-store.contract';
import { registryStoreContract } from './registry-store.contract';
import { peopleStoreContract } from './people-store.contract';
import { reportStoreContract } from './report-store.contract';
import { ruleRunnerContract } from './rule-runner.contract';

/** Every port's contract suite against one implementation. */
export function storeContract(h: StoreHarness): void {
  alertStoreContract(h);
  ruleRunnerContract(h);
  outboxStoreContract(h);
  quarantineStoreContract(h);
  registryStoreContract(h);
  peopleStoreContract(h);
  reportStoreContract(h);
}

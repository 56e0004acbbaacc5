/**
 * Several instances behind a broker that checks device secrets itself (Mosquitto's dynamic
 * security): the device accounts there, kept in step with the registry. A secret is known in
 * plain text only when it is issued, and the broker stores its own hash of it, so the registry
 * hands each new secret to the broker *before* it commits its own hash: if the broker does not
 * take it, nothing changed anywhere.
 */
export interface BrokerAccounts {
  /** Creates or updates the devices' accounts with these secrets (their live connections are dropped); rejects if the broker did not take them all. */
  setSecrets(accounts: readonly { readonly deviceId: string; readonly secret: string }[]): Promise<void>;
  /**
   * Enables or disables a device's account (a disabled device's connection is dropped). Never
   * rejects: a change the broker missed is made by the next reconciliation with the registry.
   */
  setEnabled(deviceId: string, enabled: boolean): Promise<void>;
}

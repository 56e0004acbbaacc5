import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALERT_EVENT_TYPES, ALERT_STATES, DEVICE_KINDS, ROLES } from '@dustwatch/core';
import { SEVERITIES } from '@dustwatch/rules';

/*
 * Response shapes of every route, for the OpenAPI document (and the console built on it). They
 * describe what the core's views already are; the controllers return those views unchanged.
 * Times are ISO 8601 in UTC.
 */

const nullableString = { type: String, nullable: true } as const;
const nullableNumber = { type: Number, nullable: true } as const;

export class SiteResponse {
  @ApiProperty({ example: 'CZ-001' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() district!: string;
  @ApiProperty() lat!: number;
  @ApiProperty() lon!: number;
  @ApiProperty({ ...nullableNumber, description: 'm²' }) areaM2!: number | null;
}

class Hj212SettingsResponse {
  @ApiProperty({ example: 'CZ001HJ0000001' }) mn!: string;
  @ApiProperty({ enum: ['hj212', 'modbus-swapped'] }) crc!: string;
  @ApiProperty({ example: { a34002: 'mg/m3' } }) units!: Record<string, string>;
}

export class DeviceResponse {
  @ApiProperty({ example: 'CZ-001-M1' }) id!: string;
  @ApiProperty() siteId!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: DEVICE_KINDS }) kind!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({
    type: Hj212SettingsResponse,
    description: 'present for HJ 212 monitors; the PW is never shown',
  })
  hj212?: Hj212SettingsResponse;
}

export class DeviceWithStatusResponse extends DeviceResponse {
  @ApiProperty() online!: boolean;
  @ApiProperty(nullableString) lastConnectAt!: string | null;
  @ApiProperty(nullableString) lastDisconnectAt!: string | null;
  @ApiProperty({ ...nullableString, description: 'Receive time of the last accepted reading' }) lastSeenAt!:
    string | null;
  @ApiProperty({ ...nullableString, description: 'Last message on devices/{id}/status, often the last will' })
  lastStatus!: string | null;
  @ApiProperty(nullableString) lastStatusAt!: string | null;
}

export class DeviceSecretResponse {
  @ApiProperty({ type: DeviceResponse }) device!: DeviceResponse;
  @ApiProperty({ description: 'The device secret, shown this once; stored only hashed' }) secret!: string;
}

class CreatedUpdated {
  @ApiProperty() created!: number;
  @ApiProperty() updated!: number;
}

class GeneratedSecret {
  @ApiProperty() deviceId!: string;
  @ApiProperty() secret!: string;
}

export class FleetImportResponse {
  @ApiProperty({ type: CreatedUpdated }) sites!: CreatedUpdated;
  @ApiProperty({ type: CreatedUpdated }) devices!: CreatedUpdated;
  @ApiProperty({ type: [GeneratedSecret], description: 'Secrets generated for devices the file gave none; shown once' })
  generatedSecrets!: GeneratedSecret[];
}

class RejectionReasonResponse {
  @ApiProperty({
    example: 'out_of_range',
    description: 'Machine-readable, scoped by protocol (docs/reading-contract-v1.md)',
  })
  code!: string;
  @ApiPropertyOptional() field?: string;
  @ApiProperty() message!: string;
}

export class QuarantineEntryResponse {
  @ApiProperty() id!: number;
  @ApiProperty() deviceId!: string;
  @ApiProperty() receivedAt!: string;
  @ApiProperty({ ...nullableNumber, description: 'Position in the batch; null when the whole payload was refused' })
  batchIndex!: number | null;
  @ApiProperty({ type: [RejectionReasonResponse] }) reasons!: RejectionReasonResponse[];
  @ApiProperty({ description: 'The refused text, capped at 4 KiB' }) raw!: string;
}

class EvidenceWindow {
  @ApiProperty(nullableString) from!: string | null;
  @ApiProperty(nullableString) to!: string | null;
}

export class AlertResponse {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'pm10-hourly' }) rule!: string;
  @ApiProperty({
    example: 'PM10小时均值超标',
    description: "The rule's display name (rule file `name`) when the alert opened",
  })
  ruleName!: string;
  @ApiProperty({ example: 'pm10', description: 'A metric key, or `offline`' }) metric!: string;
  @ApiProperty({ description: 'What the alert is about: the monitor (device id)' }) subject!: string;
  @ApiProperty() siteId!: string;
  @ApiProperty(nullableString) siteName!: string | null;
  @ApiProperty() district!: string;
  @ApiProperty() deviceId!: string;
  @ApiProperty({ enum: ALERT_STATES }) state!: string;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty() threshold!: number;
  @ApiProperty() openedAt!: string;
  @ApiProperty({
    description: 'When the service raised it; the response deadline runs from here (≈ openedAt for live data)',
  })
  raisedAt!: string;
  @ApiProperty() firstExceedanceAt!: string;
  @ApiProperty() lastExceedanceAt!: string;
  @ApiProperty(nullableNumber) peakValue!: number | null;
  @ApiProperty(nullableString) peakAt!: string | null;
  @ApiProperty(nullableNumber) lastValue!: number | null;
  @ApiProperty({ type: EvidenceWindow }) evidence!: EvidenceWindow;
  @ApiProperty(nullableString) acknowledgedBy!: string | null;
  @ApiProperty(nullableString) acknowledgedAt!: string | null;
  @ApiProperty(nullableString) resolvedAt!: string | null;
  @ApiProperty({
    ...nullableString,
    description: 'condition-cleared, schedule-ended, reading-received or rule-disabled (docs/rules.md)',
  })
  resolvedReason!: string | null;
  @ApiProperty(nullableString) closedBy!: string | null;
  @ApiProperty(nullableString) closedAt!: string | null;
  @ApiProperty(nullableString) closeNote!: string | null;
}

/** An alert as the inspectors' list and detail show it: with its response deadline. */
export class AlertItemResponse extends AlertResponse {
  @ApiProperty({ description: 'raisedAt + the response deadline (rule file compliance.responseDeadlineMinutes)' })
  responseDueAt!: string;
  @ApiProperty({ description: 'Acknowledged after the deadline, or not acknowledged and the deadline has passed' })
  overdue!: boolean;
}

export class AlertListResponse {
  @ApiProperty({ description: 'Alerts matching the filter, before paging' }) total!: number;
  @ApiProperty({ type: [AlertItemResponse] }) items!: AlertItemResponse[];
}

export class AlertHistoryEntryResponse {
  @ApiProperty() id!: number;
  @ApiProperty() alertId!: number;
  @ApiProperty({ enum: ALERT_EVENT_TYPES }) type!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ ...nullableString, description: 'The API key holder, for inspectors’ acts' }) actor!: string | null;
  @ApiProperty({ ...nullableString, description: "The person's display name at the time of the act" })
  actorName!: string | null;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty({ enum: ALERT_STATES }) state!: string;
  @ApiProperty(nullableNumber) value!: number | null;
  @ApiProperty(nullableString) note!: string | null;
}

export class AlertEventResponse extends AlertHistoryEntryResponse {
  @ApiProperty({ type: AlertResponse, description: 'The alert as it stood right after this event' })
  alert!: AlertResponse;
}

export class EvidenceReadingsResponse {
  @ApiProperty() metric!: string;
  @ApiProperty(nullableString) from!: string | null;
  @ApiProperty(nullableString) to!: string | null;
  @ApiProperty({
    description: '[ISO time, value] of the device’s valid readings in the evidence window',
    type: 'array',
    items: { type: 'array', items: {} },
  })
  points!: [string, number][];
  @ApiProperty() truncated!: boolean;
  @ApiPropertyOptional({ description: 'Why there are no points' }) note?: string;
}

export class AlertDetailResponse extends AlertItemResponse {
  @ApiProperty({ type: [AlertHistoryEntryResponse] }) history!: AlertHistoryEntryResponse[];
  @ApiProperty({ type: EvidenceReadingsResponse }) evidenceReadings!: EvidenceReadingsResponse;
}

export class OutboxEntryResponse {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'dw-12-webhook', description: 'Stable across retries: receivers drop repeats by it' })
  deliveryId!: string;
  @ApiProperty() eventId!: number;
  @ApiProperty() alertId!: number;
  @ApiProperty({ example: 'webhook' }) channel!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'dead'] }) state!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() nextAttemptAt!: string;
  @ApiProperty(nullableString) lastError!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty(nullableString) deliveredAt!: string | null;
}

export class NotificationsResponse {
  @ApiProperty({
    description: 'Rows per `channel:state`',
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { 'webhook:delivered': 12 },
  })
  counts!: Record<string, number>;
  @ApiProperty({ type: [OutboxEntryResponse] }) items!: OutboxEntryResponse[];
}

export class RetryResponse {
  @ApiProperty() id!: number;
  @ApiProperty({ enum: ['pending'] }) state!: string;
}

export class ApiKeyResponse {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'inspector-wang' }) name!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty(nullableString) revokedAt!: string | null;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key, shown this once; stored only hashed' }) key!: string;
}

class BrokerHealth {
  @ApiProperty() listening!: boolean;
  @ApiProperty(nullableNumber) port!: number | null;
  @ApiProperty() connectedDevices!: number;
}

class SpoolHealth {
  @ApiProperty() writable!: boolean;
  @ApiProperty({ description: 'Readings spooled, not yet acknowledged by InfluxDB' }) depth!: number;
  @ApiProperty({ description: 'On disk: used pages of spool.db plus its WAL' }) bytes!: number;
  @ApiProperty() quotaBytes!: number;
  @ApiProperty() overQuota!: boolean;
  @ApiProperty() oldestAgeSeconds!: number;
  @ApiProperty() deadLines!: number;
}

class InfluxHealth {
  @ApiProperty() reachable!: boolean;
  @ApiProperty() writing!: boolean;
  @ApiProperty(nullableString) lastError!: string | null;
  @ApiProperty(nullableString) lastSuccessAt!: string | null;
  @ApiProperty({ description: 'Late readings wait for their hourly roll-up (reports wait for it)' })
  rollUpPending!: boolean;
}

class QuarantineHealth {
  @ApiProperty({ description: 'Bytes of raw text and reasons kept' }) bytes!: number;
  @ApiProperty({ description: 'Past it the oldest entries are deleted' }) quotaBytes!: number;
}

/** What anyone may see: up, and ready or not. */
export class HealthStatusResponse {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status!: string;
}

export class HealthResponse extends HealthStatusResponse {
  @ApiProperty({ type: BrokerHealth }) broker!: BrokerHealth;
  @ApiProperty({ type: SpoolHealth }) spool!: SpoolHealth;
  @ApiProperty({ type: QuarantineHealth }) quarantine!: QuarantineHealth;
  @ApiProperty({ type: InfluxHealth }) influx!: InfluxHealth;
}

export class StreamTokenResponse {
  @ApiProperty({ description: 'Pass as ?token= to GET /api/alerts/stream; opens streams until expiresAt' })
  token!: string;
  @ApiProperty() expiresAt!: string;
}

/** The body of every 4xx/5xx answer. */
export class ErrorResponse {
  @ApiProperty() statusCode!: number;
  @ApiProperty({ example: 'conflict' }) error!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ type: [String] }) problems?: string[];
  @ApiPropertyOptional({ description: 'For a 500: matches the error id in the log' }) errorId?: string;
}

export class ReportMetaResponse {
  @ApiProperty({ enum: ['daily', 'weekly', 'monthly'] }) kind!: string;
  @ApiProperty({ example: '2026-11' }) period!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'epoch ms' }) computedAt!: number;
  @ApiProperty({ description: 'epoch ms; readings accepted later for the period make it "revised data available"' })
  dataAsOf!: number;
  @ApiProperty({ example: 'schedule' }) computedBy!: string;
  @ApiProperty({ nullable: true, type: Number }) summarySentAt!: number | null;
}

export class ReportListEntryResponse extends ReportMetaResponse {
  @ApiProperty() revisedDataAvailable!: boolean;
}

export class ReportResponse {
  @ApiProperty({ type: ReportMetaResponse }) meta!: ReportMetaResponse;
  @ApiProperty({ description: 'Readings for the period arrived after it was computed; an admin can recompute' })
  revisedDataAvailable!: boolean;
  @ApiProperty({ description: 'Stored versions of this report' }) versions!: number;
  @ApiProperty({
    description:
      'The figures (ComplianceReport in libs/reports/src/compute.ts): city, districts, sites, ranking, settings; every figure is defined in docs/reports.md',
    type: 'object',
    additionalProperties: true,
  })
  report!: Record<string, unknown>;
}

export class EvidenceKeyResponse {
  @ApiProperty({ description: 'SHA-256 of the public key (SPKI DER), hex' }) fingerprint!: string;
  @ApiProperty() publicKeyPem!: string;
}

export class SealedRootResponse {
  @ApiProperty() number!: number;
  @ApiProperty({ description: 'Devices whose chain head the root signs' }) leaves!: number;
  @ApiProperty({ description: 'Roots (this and earlier ones) the RFC 3161 authority timestamped now' })
  timestamped!: number;
}

export class EvidenceSealResponse {
  @ApiPropertyOptional({
    type: SealedRootResponse,
    nullable: true,
    description: 'null: no chain moved since the last root',
  })
  sealed!: SealedRootResponse | null;
}

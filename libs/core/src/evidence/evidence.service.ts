import { shanghaiWallTimeToEpochMs } from '@dustwatch/telemetry';
import { Clock } from '../kernel/clock';
import { InvalidInputError } from '../kernel/errors';
import { ContextLogger } from '../kernel/logger';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { IngestMetrics } from '../kernel/metrics';
import { EvidenceLog, TimestampAuthority } from '../ports/evidence-log';
import { RegistryService } from '../registry/registry.service';

const HOUR_MS = 3_600_000;
/** How often the sealer looks whether an hour has ended (and retries timestamps a TSA refused). */
const SEAL_CHECK_MS = 60_000;
/** Roots timestamped per check: a TSA that was down for a week catches up without a burst. */
const STAMPS_PER_CHECK = 24;

/**
 * Seals the evidence record once an hour (the first check after each full hour, so the root of
 * a day's last hour is sealed at or after the day's end) and exports a site's day as a bundle.
 * A seal may also be asked for (an operator exporting today so far): roots are cheap, and more of
 * them only narrow where a change can hide.
 */
export class EvidenceService {
  private timer: TimerHandle | null = null;

  constructor(
    private readonly log: EvidenceLog,
    private readonly registry: RegistryService,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
    private readonly metrics: IngestMetrics,
    private readonly tsa: TimestampAuthority | null,
  ) {}

  async start(): Promise<void> {
    this.logger.log('evidence record ready', { keyFingerprint: this.log.keyFingerprint });
    await this.sealIfHourEnded();
    this.timer = this.scheduler.every(SEAL_CHECK_MS, () => void this.sealIfHourEnded());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private async sealIfHourEnded(): Promise<void> {
    try {
      const last = await this.log.lastSealedAt();
      if (last === null || Math.floor(last / HOUR_MS) < Math.floor(this.clock.now() / HOUR_MS)) await this.seal();
      else await this.stampPending();
    } catch (error) {
      this.logger.error('evidence root not sealed; retried in a minute', { error: (error as Error).message });
    }
  }

  /** Seals a root now, then timestamps it (and any root still without a token) at the TSA. */
  async seal(): Promise<{ number: number; leaves: number; timestamped: number } | null> {
    const root = await this.log.seal(this.clock.now());
    if (root) this.logger.log('evidence root sealed', root);
    const timestamped = await this.stampPending();
    return root && { ...root, timestamped };
  }

  /** Resolves with how many roots got their token; a TSA failure is logged, counted and retried at the next check. */
  private async stampPending(): Promise<number> {
    if (!this.tsa) return 0;
    let stamped = 0;
    for (const { number, digest } of await this.log.unstamped(STAMPS_PER_CHECK)) {
      try {
        await this.log.attachTimestamp(number, await this.tsa.stamp(digest));
        stamped += 1;
      } catch (error) {
        this.metrics.evidenceTimestampFailures.inc();
        this.logger.warn('evidence root not timestamped; retried in a minute', {
          root: number,
          tsa: this.tsa.url,
          error: (error as Error).message,
        });
        break;
      }
    }
    return stamped;
  }

  /** The bundle of one site's devices for one Asia/Shanghai day (YYYY-MM-DD). */
  async bundle(siteId: string, day: string): Promise<Uint8Array> {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    const from = match ? shanghaiWallTimeToEpochMs(Number(match[1]), Number(match[2]), Number(match[3])) : null;
    if (from === null)
      throw new InvalidInputError(`day must be a date YYYY-MM-DD, not ${JSON.stringify(day).slice(0, 40)}`);
    await this.registry.getSite(siteId);
    const devices = await this.registry.listDevices(siteId);
    return this.log.bundle({
      siteId,
      day,
      deviceIds: devices.map((d) => d.id).sort(),
      from,
      to: from + 24 * HOUR_MS,
      createdAt: this.clock.now(),
    });
  }

  get keyFingerprint(): string {
    return this.log.keyFingerprint;
  }

  get publicKeyPem(): string {
    return this.log.publicKeyPem;
  }
}

import {
  Body,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ALERT_STORE,
  AlertEventView,
  AlertFeed,
  AlertService,
  AlertStore,
  AlertView,
  CLOCK,
  Clock,
  EVIDENCE_READER,
  EvidenceReader,
  EvidenceReadings,
  LiveStreams,
  NotFoundError,
  OUTBOX_STORE,
  StreamTokens,
  OutboxStore,
  OutboxView,
} from '@dustwatch/core';
import { AuthenticatedRequest } from './http-edge';
import { MinRole } from './min-role';
import { KeyedController } from './keyed-controller';
import {
  AlertDetailResponse,
  AlertEventResponse,
  AlertListResponse,
  AlertResponse,
  ErrorResponse,
  NotificationsResponse,
  RetryResponse,
  StreamTokenResponse,
} from './responses';
import { AcknowledgeAlertDto, CloseAlertDto, ListAlertsQuery, ListNotificationsQuery } from './alerts.dto';

/** GET /api/alerts/:id: the alert, its history and the readings behind it. */
type AlertDetail = Awaited<ReturnType<AlertService['get']>> & { evidenceReadings: EvidenceReadings };

const sseFrame = (e: AlertEventView): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

@KeyedController('api', 'alerts')
export class AlertsController {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(ALERT_STORE) private readonly repo: AlertStore,
    @Inject(OUTBOX_STORE) private readonly outbox: OutboxStore,
    @Inject(EVIDENCE_READER) private readonly evidence: EvidenceReader,
    @Inject(AlertFeed) private readonly feed: AlertFeed,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(StreamTokens) private readonly streamTokens: StreamTokens,
    @Inject(LiveStreams) private readonly liveStreams: LiveStreams,
  ) {}

  @Get('alerts')
  @MinRole('viewer')
  @ApiOperation({
    summary: 'List alerts, newest first; by default the inspector list (open, acknowledged, resolved — not yet closed)',
  })
  @ApiOkResponse({ type: AlertListResponse })
  list(@Query() q: ListAlertsQuery): Promise<{ total: number; items: AlertView[] }> {
    return this.alerts.list({
      state: q.state ?? ['open', 'acknowledged', 'resolved'],
      siteId: q.siteId,
      district: q.district,
      rule: q.rule,
      severity: q.severity,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
      limit: q.limit,
      offset: q.offset,
    });
  }

  @Post('alerts/stream-token')
  @HttpCode(200)
  @MinRole('viewer')
  @ApiOperation({
    summary:
      "A token for ?token= on the alert stream (browsers' EventSource cannot send headers); opens streams for 5 minutes",
  })
  @ApiOkResponse({ type: StreamTokenResponse })
  streamToken(@Req() req: AuthenticatedRequest): StreamTokenResponse {
    return this.streamTokens.issue(req.principal!);
  }

  /**
   * Server-Sent Events of every alert event. A client that reconnects with `Last-Event-ID` (or
   * `?since=<event id>`) first gets what it missed from the history, then live events: nothing is
   * lost across a dropped connection.
   */
  @Get('alerts/stream')
  @MinRole('viewer')
  @ApiOperation({
    summary:
      'Live alert events (text/event-stream); resumes after Last-Event-ID. Authenticate with the key header, or ?token= from POST /api/alerts/stream-token',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    type: AlertEventResponse,
    description: 'A stream of `id`/`event`/`data` frames; each data is one AlertEvent as JSON',
  })
  async stream(@Req() req: AuthenticatedRequest, @Res() res: Response): Promise<void> {
    // Subscribed before anything is read, live events held until the replay is done: an event
    // committed meanwhile is sent once, in order (send drops ids already sent), whatever the
    // store's reads await.
    // Capped per person or key, and ended the moment the credential that opened it ends.
    const release = this.liveStreams.open(req.principal!, () => res.end());
    if (!release) {
      res.setHeader('Retry-After', '60');
      throw new HttpException(
        `${this.liveStreams.maxPerOwner} alert streams are open for this person or key already: close one`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    let held: AlertEventView[] | null = [];
    const unsubscribe = this.feed.subscribe((events) => (held ? held.push(...events) : events.forEach(send)));
    let keepAlive: NodeJS.Timeout | undefined;
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      release();
    });
    const resumeFrom = Number(req.headers['last-event-id'] ?? req.query['since'] ?? NaN);
    let last = Number.isInteger(resumeFrom) && resumeFrom >= 0 ? resumeFrom : await this.repo.lastEventId();
    if (res.writableEnded) return; // its credential ended while the last id was read
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // An id-only frame (no data: no event is dispatched) sets the client's last event id, so a
    // browser that reconnects before it saw any event still resumes from here and misses nothing.
    res.write(`: dustwatch alert stream\nid: ${last}\n\n`);
    const send = (e: AlertEventView): void => {
      if (e.id <= last || res.writableEnded) return; // ended meanwhile (its credential did)
      last = e.id;
      res.write(sseFrame(e));
    };
    for (
      let page = await this.repo.eventsAfter(last, 500);
      page.length > 0;
      page = await this.repo.eventsAfter(last, 500)
    )
      page.forEach(send);
    const replayed = held;
    held = null;
    replayed.sort((a, b) => a.id - b.id).forEach(send);
    if (!res.writableEnded && !res.destroyed) keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  }

  @Get('alerts/:id')
  @MinRole('viewer')
  @ApiOperation({ summary: 'One alert with its history and the readings of its evidence window' })
  @ApiOkResponse({ type: AlertDetailResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(@Param('id', ParseIntPipe) id: number): Promise<AlertDetail> {
    const alert = await this.alerts.get(id);
    return { ...alert, evidenceReadings: await this.evidence.readingsFor(alert) };
  }

  @Post('alerts/:id/acknowledge')
  @HttpCode(200)
  @MinRole('inspector')
  @ApiOperation({ summary: 'Acknowledge an open alert, as the API key holder' })
  @ApiOkResponse({ type: AlertResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Not open (acknowledged, resolved or closed already)' })
  acknowledge(
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: AcknowledgeAlertDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<AlertView> {
    return this.alerts.acknowledge(id, req.principal!, dto.note);
  }

  @Post('alerts/:id/close')
  @HttpCode(200)
  @MinRole('inspector')
  @ApiOperation({ summary: 'Close out a resolved alert with a note saying what was done' })
  @ApiOkResponse({ type: AlertResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'Not resolved yet, or closed already' })
  close(
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: CloseAlertDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<AlertView> {
    return this.alerts.close(id, req.principal!, dto.note);
  }

  @Get('notifications')
  @MinRole('viewer')
  @ApiOperation({ summary: 'Notification deliveries (outbox), newest first; state=dead lists the ones that gave up' })
  @ApiOkResponse({ type: NotificationsResponse })
  async notifications(
    @Query() q: ListNotificationsQuery,
  ): Promise<{ counts: Record<string, number>; items: OutboxView[] }> {
    return { counts: await this.outbox.counts(), items: await this.outbox.list(q.state, q.limit) };
  }

  @Post('notifications/:id/retry')
  @HttpCode(200)
  @MinRole('admin')
  @ApiOperation({ summary: 'Put a dead delivery back in line' })
  @ApiOkResponse({ type: RetryResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async retry(@Param('id', ParseIntPipe) id: number): Promise<{ id: number; state: 'pending' }> {
    if (!(await this.outbox.retry(id, this.clock.now()))) throw new NotFoundError(`no dead delivery with id ${id}`);
    return { id, state: 'pending' };
  }
}

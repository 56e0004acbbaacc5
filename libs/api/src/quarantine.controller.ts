import { BadRequestException, DefaultValuePipe, Get, Inject, ParseIntPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { isValidId } from '@dustwatch/telemetry';
import { QUARANTINE_STORE, QuarantineEntry, QuarantineStore } from '@dustwatch/core';

import { KeyedController } from './keyed-controller';
import { QuarantineEntryResponse } from './responses';

@KeyedController('api', 'admin', 'admin')
export class QuarantineController {
  constructor(@Inject(QUARANTINE_STORE) private readonly quarantine: QuarantineStore) {}

  @Get('quarantine')
  @ApiOperation({ summary: 'Refused readings, newest first, with every reason' })
  @ApiQuery({ name: 'deviceId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'beforeId', required: false })
  @ApiOkResponse({ type: [QuarantineEntryResponse] })
  listQuarantine(
    @Query('deviceId') deviceId?: string,
    @Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit = 100,
    @Query('beforeId', new DefaultValuePipe(0), ParseIntPipe) beforeId = 0,
  ): Promise<QuarantineEntry[]> {
    if (deviceId !== undefined && !isValidId(deviceId))
      throw new BadRequestException('deviceId must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    if (limit < 1 || limit > 1000) throw new BadRequestException('limit must be between 1 and 1000');
    return this.quarantine.list({ deviceId, limit, beforeId: beforeId > 0 ? beforeId : undefined });
  }
}

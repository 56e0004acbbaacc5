import {
  BadRequestException,
  Body,
  Controller,
  DefaultValuePipe,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseIntPipe,
  PipeTransform,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { isValidId } from '@dustwatch/telemetry';
import { QUARANTINE_STORE, QuarantineStore, RegistryService } from '@dustwatch/core';
import { ApiKeyGuard } from './api-key.guard';
import { MinRole } from './min-role';
import { CreateDeviceDto, CreateSiteDto } from './registry.dto';

/** Path ids are validated like body ids: nothing unvalidated reaches SQL. */
class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidId(value)) throw new BadRequestException('id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    return value;
  }
}

@ApiTags('admin')
@ApiSecurity('api-key')
@UseGuards(ApiKeyGuard)
@MinRole('admin')
@Controller('api')
export class RegistryController {
  constructor(
    @Inject(RegistryService) private readonly registry: RegistryService,
    @Inject(QUARANTINE_STORE) private readonly quarantine: QuarantineStore,
  ) {}

  @Get('sites')
  @ApiOperation({ summary: 'List sites' })
  listSites() {
    return this.registry.listSites();
  }

  @Post('sites')
  @ApiOperation({ summary: 'Create a site' })
  createSite(@Body() dto: CreateSiteDto) {
    return this.registry.createSite(dto);
  }

  @Get('devices')
  @ApiOperation({ summary: 'List devices with online status and last-seen time' })
  @ApiQuery({ name: 'siteId', required: false })
  listDevices(@Query('siteId') siteId?: string) {
    if (siteId !== undefined && !isValidId(siteId))
      throw new BadRequestException('siteId must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    return this.registry.listDevices(siteId);
  }

  @Post('devices')
  @ApiOperation({ summary: 'Create a device; the response holds its secret, shown this once' })
  createDevice(@Body() dto: CreateDeviceDto) {
    return this.registry.createDevice(dto);
  }

  @Post('devices/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new secret (shown once); the device is disconnected' })
  rotateSecret(@Param('id', IdPipe) id: string) {
    return this.registry.rotateSecret(id);
  }

  @Post('devices/:id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a device; it is disconnected and refused (CONNACK 5)' })
  disable(@Param('id', IdPipe) id: string) {
    return this.registry.setEnabled(id, false);
  }

  @Post('devices/:id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled device' })
  enable(@Param('id', IdPipe) id: string) {
    return this.registry.setEnabled(id, true);
  }

  @Post('fleet/import')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import a fleet file (JSON form of the YAML fleet file); idempotent' })
  @ApiBody({ schema: { type: 'object' } })
  importFleet(@Body() document: unknown) {
    return this.registry.importFleet(document);
  }

  @Get('quarantine')
  @ApiOperation({ summary: 'Refused readings, newest first, with every reason' })
  @ApiQuery({ name: 'deviceId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'beforeId', required: false })
  listQuarantine(
    @Query('deviceId') deviceId?: string,
    @Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit = 100,
    @Query('beforeId', new DefaultValuePipe(0), ParseIntPipe) beforeId = 0,
  ) {
    if (deviceId !== undefined && !isValidId(deviceId))
      throw new BadRequestException('deviceId must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    if (limit < 1 || limit > 1000) throw new BadRequestException('limit must be between 1 and 1000');
    return this.quarantine.list({ deviceId, limit, beforeId: beforeId > 0 ? beforeId : undefined });
  }
}

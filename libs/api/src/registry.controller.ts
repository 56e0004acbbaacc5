import { BadRequestException, Body, Get, HttpCode, Inject, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { isValidId } from '@dustwatch/telemetry';
import { Device, DeviceWithStatus, FleetImportSummary, RegistryService, Site } from '@dustwatch/core';

import { KeyedController } from './keyed-controller';
import { CreateDeviceDto, CreateSiteDto } from './registry.dto';
import {
  DeviceResponse,
  DeviceSecretResponse,
  DeviceWithStatusResponse,
  FleetImportResponse,
  SiteResponse,
} from './responses';

/** Path ids are validated like body ids: nothing unvalidated reaches SQL. */
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidId(value)) throw new BadRequestException('id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    return value;
  }
}

@KeyedController('api', 'admin', 'admin')
export class RegistryController {
  constructor(@Inject(RegistryService) private readonly registry: RegistryService) {}

  @Get('sites')
  @ApiOperation({ summary: 'List sites' })
  @ApiOkResponse({ type: [SiteResponse] })
  listSites(): Promise<Site[]> {
    return this.registry.listSites();
  }

  @Post('sites')
  @ApiOperation({ summary: 'Create a site' })
  @ApiCreatedResponse({ type: SiteResponse })
  createSite(@Body() dto: CreateSiteDto): Promise<Site> {
    return this.registry.createSite(dto);
  }

  @Get('devices')
  @ApiOperation({ summary: 'List devices with online status and last-seen time' })
  @ApiQuery({ name: 'siteId', required: false })
  @ApiOkResponse({ type: [DeviceWithStatusResponse] })
  listDevices(@Query('siteId') siteId?: string): Promise<DeviceWithStatus[]> {
    if (siteId !== undefined && !isValidId(siteId))
      throw new BadRequestException('siteId must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
    return this.registry.listDevices(siteId);
  }

  @Post('devices')
  @ApiOperation({ summary: 'Create a device; the response holds its secret, shown this once' })
  @ApiCreatedResponse({ type: DeviceSecretResponse })
  createDevice(@Body() dto: CreateDeviceDto): Promise<{ device: Device; secret: string }> {
    return this.registry.createDevice(dto);
  }

  @Post('devices/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new secret (shown once); the device is disconnected' })
  @ApiOkResponse({ type: DeviceSecretResponse })
  rotateSecret(@Param('id', IdPipe) id: string): Promise<{ device: Device; secret: string }> {
    return this.registry.rotateSecret(id);
  }

  @Post('devices/:id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a device; it is disconnected and refused (CONNACK 5)' })
  @ApiOkResponse({ type: DeviceResponse })
  disable(@Param('id', IdPipe) id: string): Promise<Device> {
    return this.registry.setEnabled(id, false);
  }

  @Post('devices/:id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled device' })
  @ApiOkResponse({ type: DeviceResponse })
  enable(@Param('id', IdPipe) id: string): Promise<Device> {
    return this.registry.setEnabled(id, true);
  }

  @Post('fleet/import')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import a fleet file (JSON form of the YAML fleet file); idempotent' })
  @ApiBody({ schema: { type: 'object' } })
  @ApiOkResponse({ type: FleetImportResponse })
  importFleet(@Body() document: unknown): Promise<FleetImportSummary> {
    return this.registry.importFleet(document);
  }
}

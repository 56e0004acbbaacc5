import { Body, Delete, Get, HttpCode, Inject, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { ApiKeyAuthenticator, ApiKeyRecord, ROLES, Role } from '@dustwatch/core';
import { ApiKeyResponse, CreatedApiKeyResponse } from './responses';

import { KeyedController } from './keyed-controller';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'inspector-wang', description: 'Who holds the key: shown in the alert history as the actor' })
  @Matches(ID_PATTERN, { message: 'name must match ' + ID_PATTERN.source })
  name!: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES as unknown as string[]) role!: Role;
}

@KeyedController('api/keys', 'admin', 'admin')
export class ApiKeysController {
  constructor(@Inject(ApiKeyAuthenticator) private readonly keys: ApiKeyAuthenticator) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key (admin, inspector or viewer); the key is in the response, shown this once',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  create(@Body() dto: CreateApiKeyDto): Promise<ApiKeyRecord & { key: string }> {
    return this.keys.create(dto.name, dto.role);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (never the keys themselves)' })
  @ApiOkResponse({ type: [ApiKeyResponse] })
  list(): Promise<ApiKeyRecord[]> {
    return this.keys.list();
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse({ description: 'Revoked' })
  revoke(@Param('id', ParseIntPipe) id: number): Promise<void> {
    return this.keys.revoke(id);
  }
}

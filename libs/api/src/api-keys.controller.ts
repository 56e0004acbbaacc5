import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseIntPipe, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { ApiKeyAuthenticator, ROLES, Role } from '@dustwatch/core';
import { ApiKeyGuard } from './api-key.guard';
import { MinRole } from './min-role';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'inspector-wang', description: 'Who holds the key: shown in the alert history as the actor' })
  @Matches(ID_PATTERN, { message: 'name must match ' + ID_PATTERN.source })
  name!: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES as unknown as string[]) role!: Role;
}

@ApiTags('admin')
@ApiSecurity('api-key')
@UseGuards(ApiKeyGuard)
@MinRole('admin')
@Controller('api/keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeyAuthenticator) private readonly keys: ApiKeyAuthenticator) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key (admin, inspector or viewer); the key is in the response, shown this once',
  })
  create(@Body() dto: CreateApiKeyDto) {
    return this.keys.create(dto.name, dto.role);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (never the keys themselves)' })
  list() {
    return this.keys.list();
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  revoke(@Param('id', ParseIntPipe) id: number): Promise<void> {
    return this.keys.revoke(id);
  }
}

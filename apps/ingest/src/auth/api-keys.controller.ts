import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseIntPipe, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { ConflictError, NotFoundError } from '../core/errors';
import { CLOCK, Clock } from '../core/tokens';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysRepository } from './api-keys.repository';
import { MinRole, ROLES, Role } from './roles';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'inspector-wang', description: 'Who holds the key: shown in the alert history as the actor' })
  @Matches(ID_PATTERN, { message: 'name must match ' + ID_PATTERN.source }) name!: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES as unknown as string[]) role!: Role;
}

@ApiTags('admin')
@ApiSecurity('api-key')
@UseGuards(ApiKeyGuard)
@MinRole('admin')
@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysRepository, @Inject(CLOCK) private readonly clock: Clock) {}

  @Post() @ApiOperation({ summary: 'Create an API key (admin, inspector or viewer); the key is in the response, shown this once' })
  create(@Body() dto: CreateApiKeyDto) {
    const created = this.keys.create(dto.name, dto.role, this.clock.now());
    if (!created) throw new ConflictError(`an API key named ${dto.name} exists already`);
    return { ...created.record, key: created.key };
  }

  @Get() @ApiOperation({ summary: 'List API keys (never the keys themselves)' })
  list() { return this.keys.list(); }

  @Delete(':id') @HttpCode(204) @ApiOperation({ summary: 'Revoke an API key' })
  revoke(@Param('id', ParseIntPipe) id: number): void {
    if (!this.keys.revoke(id, this.clock.now())) throw new NotFoundError(`no live API key with id ${id}`);
  }
}

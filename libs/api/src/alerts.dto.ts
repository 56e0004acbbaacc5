import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SEVERITIES, Severity } from '@dustwatch/rules';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { ALERT_STATES, AlertState, IsPlainText } from '@dustwatch/core';

const idMessage = (name: string): { message: string } => ({ message: `${name} must match ${ID_PATTERN.source}` });

export class ListAlertsQuery {
  @ApiPropertyOptional({
    description:
      'Comma-separated states (open, acknowledged, resolved, closed). Default: the inspector list — open, acknowledged, resolved',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value))
  @IsIn(ALERT_STATES as unknown as string[], { each: true, message: `state must be among ${ALERT_STATES.join(', ')}` })
  state?: AlertState[];
  @ApiPropertyOptional() @IsOptional() @Matches(ID_PATTERN, idMessage('siteId')) siteId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) district?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(ID_PATTERN, idMessage('rule')) rule?: string;
  @ApiPropertyOptional({ enum: SEVERITIES }) @IsOptional() @IsIn(SEVERITIES as unknown as string[]) severity?: Severity;
  @ApiPropertyOptional({ description: 'Opened at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;
  @ApiPropertyOptional({ description: 'Opened before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
  @ApiPropertyOptional({ default: 50 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit = 50;
  @ApiPropertyOptional({ default: 0 }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset = 0;
}

export class AcknowledgeAlertDto {
  @ApiPropertyOptional({ example: 'called the site manager; sprinklers on' })
  @IsOptional()
  @IsString()
  @IsPlainText({ multiline: true })
  @MaxLength(2000)
  note?: string;
}

export class CloseAlertDto {
  @ApiProperty({ example: 'stockpile covered, wheel wash repaired; checked on site 14:20' })
  @IsString()
  @IsPlainText({ multiline: true })
  @MinLength(1)
  @MaxLength(4000)
  note!: string;
}

export class ListNotificationsQuery {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'dead'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'dead'])
  state?: 'pending' | 'delivered' | 'dead';
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit = 100;
}

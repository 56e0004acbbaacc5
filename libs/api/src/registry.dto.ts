import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { DEVICE_KINDS, DeviceKind, Hj212Dto, IsEntityId, IsPlainText } from '@dustwatch/core';
import { CRC_VARIANTS } from '@dustwatch/telemetry';

/** The HJ 212 identity in a request: the core's validated DTO, documented for OpenAPI. */
export class Hj212Body extends Hj212Dto {
  @ApiProperty({ example: 'CZ001HJ0000001', description: 'MN, 9–24 characters, as set on the monitor' })
  declare mn: string;
  @ApiProperty({ example: '123456', description: 'PW, the access password (stored hashed)' })
  declare password: string;
  @ApiPropertyOptional({ enum: CRC_VARIANTS, default: 'hj212' }) declare crc?: (typeof CRC_VARIANTS)[number];
  @ApiPropertyOptional({ example: { a34002: 'mg/m3' }, description: 'particulate codes sent in mg/m³ (default ug/m3)' })
  declare units?: Record<string, 'ug/m3' | 'mg/m3'>;
}

export class CreateSiteDto {
  @ApiProperty({ example: 'CZ-001' }) @IsEntityId() id!: string;
  @ApiProperty({ example: 'Luzhou No. 3 residential block' })
  @IsString()
  @IsPlainText()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
  @ApiProperty({ example: 'Luzhou' }) @IsString() @IsPlainText() @MinLength(1) @MaxLength(100) district!: string;
  @ApiProperty({ example: 36.195 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  lat!: number;
  @ApiProperty({ example: 113.117 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  lon!: number;
  @ApiPropertyOptional({ example: 12000, description: 'Site area in m²' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  areaM2?: number;
}

export class CreateDeviceDto {
  @ApiProperty({ example: 'CZ-001-M1' }) @IsEntityId() id!: string;
  @ApiProperty({ example: 'CZ-001' }) @IsEntityId() siteId!: string;
  @ApiProperty({ example: 'YZ-DM300' }) @IsString() @IsPlainText() @MinLength(1) @MaxLength(100) model!: string;
  @ApiProperty({ enum: DEVICE_KINDS }) @IsIn(DEVICE_KINDS) kind!: DeviceKind;
  @ApiPropertyOptional({ type: Hj212Body, description: 'for a monitor that uploads HJ 212 over TCP (docs/hj212.md)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => Hj212Body)
  hj212?: Hj212Body;
}

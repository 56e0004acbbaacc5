import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { DEVICE_KINDS, DeviceKind, IsEntityId } from '@dustwatch/core';

export class CreateSiteDto {
  @ApiProperty({ example: 'CZ-001' }) @IsEntityId() id!: string;
  @ApiProperty({ example: 'Luzhou No. 3 residential block' }) @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiProperty({ example: 'Luzhou' }) @IsString() @MinLength(1) @MaxLength(100) district!: string;
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
  @ApiProperty({ example: 'YZ-DM300' }) @IsString() @MinLength(1) @MaxLength(100) model!: string;
  @ApiProperty({ enum: DEVICE_KINDS }) @IsIn(DEVICE_KINDS) kind!: DeviceKind;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsIn, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested, ValidationError,
} from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';

/** Composite validator for every id that reaches a topic, an InfluxDB tag or SQL. */
export function IsEntityId(): PropertyDecorator {
  return Matches(ID_PATTERN, { message: '$property must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)' });
}

export const DEVICE_KINDS = ['site', 'background'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export class CreateSiteDto {
  @ApiProperty({ example: 'CZ-001' }) @IsEntityId() id!: string;
  @ApiProperty({ example: 'Luzhou No. 3 residential block' }) @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiProperty({ example: 'Luzhou' }) @IsString() @MinLength(1) @MaxLength(100) district!: string;
  @ApiProperty({ example: 36.195 }) @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-90) @Max(90) lat!: number;
  @ApiProperty({ example: 113.117 }) @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-180) @Max(180) lon!: number;
  @ApiPropertyOptional({ example: 12000, description: 'Site area in m²' }) @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) areaM2?: number;
}

export class CreateDeviceDto {
  @ApiProperty({ example: 'CZ-001-M1' }) @IsEntityId() id!: string;
  @ApiProperty({ example: 'CZ-001' }) @IsEntityId() siteId!: string;
  @ApiProperty({ example: 'YZ-DM300' }) @IsString() @MinLength(1) @MaxLength(100) model!: string;
  @ApiProperty({ enum: DEVICE_KINDS }) @IsIn(DEVICE_KINDS) kind!: DeviceKind;
}

export class FleetDeviceDto {
  @IsEntityId() id!: string;
  @IsString() @MinLength(1) @MaxLength(100) model!: string;
  @IsIn(DEVICE_KINDS) kind!: DeviceKind;
  /** Optional: a device without one gets a generated secret, reported once by the import. */
  @IsOptional() @IsString() @MinLength(16) @MaxLength(200) secret?: string;
}

export class FleetSiteDto extends CreateSiteDto {
  @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => FleetDeviceDto) devices!: FleetDeviceDto[];
}

/** The fleet file (YAML or JSON) that provisions a whole city with one command. */
export class FleetFileDto {
  @IsIn([1]) version!: number;
  @IsArray() @ArrayMaxSize(100_000) @ValidateNested({ each: true }) @Type(() => FleetSiteDto) sites!: FleetSiteDto[];
}

/** Flattens class-validator errors into `path: message` lines. */
export function describeValidationErrors(errors: ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : prefix ? `${prefix}.${error.property}` : error.property;
    if (error.value === undefined && error.constraints) lines.push(`${path}: is required`);
    else for (const message of Object.values(error.constraints ?? {})) lines.push(`${path}: ${message}`);
    if (error.children?.length) lines.push(...describeValidationErrors(error.children, path));
  }
  return lines;
}

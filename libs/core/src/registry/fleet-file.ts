import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  ValidationError,
} from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { DEVICE_KINDS, DeviceKind } from '../ports/registry-store';

/** Composite validator for every id that reaches a topic, an InfluxDB tag or SQL. */
export function IsEntityId(): PropertyDecorator {
  return Matches(ID_PATTERN, {
    message: '$property must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)',
  });
}

export class FleetDeviceDto {
  @IsEntityId() id!: string;
  @IsString() @MinLength(1) @MaxLength(100) model!: string;
  @IsIn(DEVICE_KINDS) kind!: DeviceKind;
  /** Optional: a device without one gets a generated secret, reported once by the import. */
  @IsOptional() @IsString() @MinLength(16) @MaxLength(200) secret?: string;
}

export class FleetSiteDto {
  // Declared first: problems are listed in declaration order, devices before the site's own fields.
  @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => FleetDeviceDto) devices!: FleetDeviceDto[];
  @IsEntityId() id!: string;
  @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @IsString() @MinLength(1) @MaxLength(100) district!: string;
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-90) @Max(90) lat!: number;
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-180) @Max(180) lon!: number;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) areaM2?: number;
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
    const path = /^\d+$/.test(error.property)
      ? `${prefix}[${error.property}]`
      : prefix
        ? `${prefix}.${error.property}`
        : error.property;
    if (error.value === undefined && error.constraints) lines.push(`${path}: is required`);
    else for (const message of Object.values(error.constraints ?? {})) lines.push(`${path}: ${message}`);
    if (error.children?.length) lines.push(...describeValidationErrors(error.children, path));
  }
  return lines;
}

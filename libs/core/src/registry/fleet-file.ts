import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ValidateBy,
  ValidationOptions,
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
import { CRC_VARIANTS, Hj212CrcVariant, Hj212Unit, ID_PATTERN, controlCharacterIn } from '@dustwatch/telemetry';
import { DEVICE_KINDS, DeviceKind } from '../ports/registry-store';

/** Composite validator for every id that reaches a topic, an InfluxDB tag or SQL. */
export function IsEntityId(): PropertyDecorator {
  return Matches(ID_PATTERN, {
    message: '$property must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)',
  });
}

/** Names and notes: no control or bidi characters (notes keep their line breaks). */
export function IsPlainText(options: { multiline?: boolean } = {}): PropertyDecorator {
  return ValidateBy({
    name: 'isPlainText',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || controlCharacterIn(value, options.multiline) === null,
      defaultMessage: (args) =>
        `$property must not hold control or bidi characters (found ${controlCharacterIn(String(args?.value), options.multiline)})`,
    },
  });
}

const PARTICULATE_CODES = ['a34001', 'a34002', 'a34004'];
const UNITS: readonly Hj212Unit[] = ['ug/m3', 'mg/m3'];

/** `units` maps particulate codes (a34001 TSP, a34002 PM10, a34004 PM2.5) to ug/m3 or mg/m3. */
function IsParticulateUnits(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isParticulateUnits',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(([code, unit]) => PARTICULATE_CODES.includes(code) && UNITS.includes(unit)),
        defaultMessage: () => `$property maps ${PARTICULATE_CODES.join('/')} to ${UNITS.join(' or ')}`,
      },
    },
    options,
  );
}

/** A device's HJ 212 identity, as the installer set it on the monitor or its DTU (docs/hj212.md). */
export class Hj212Dto {
  /** Real MNs are 9–24 characters, not always the standard's 24 hex digits. */
  @Matches(/^[A-Za-z0-9_-]{9,24}$/, { message: '$property must be 9–24 letters, digits, _ or -' }) mn!: string;
  /**
   * The access password (PW): 6 characters by the standard, and no fewer here — a shorter one is
   * a few thousand guesses (issue 25); anything without ; , & = or spaces is taken.
   */
  @Matches(/^[^;,&=\s]{6,32}$/, { message: '$property must be 6–32 characters without ; , & = or spaces' })
  password!: string;
  @IsOptional() @IsIn(CRC_VARIANTS) crc?: Hj212CrcVariant;
  @IsOptional() @IsParticulateUnits() units?: Record<string, Hj212Unit>;
}

export class FleetDeviceDto {
  @IsEntityId() id!: string;
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(100) model!: string;
  @IsIn(DEVICE_KINDS) kind!: DeviceKind;
  /** Optional: a device without one gets a generated secret, reported once by the import. */
  @IsOptional() @IsString() @MinLength(16) @MaxLength(200) secret?: string;
  /** Present when the device uploads HJ 212 over TCP. */
  @IsOptional() @ValidateNested() @Type(() => Hj212Dto) hj212?: Hj212Dto;
}

export class FleetSiteDto {
  // Declared first: problems are listed in declaration order, devices before the site's own fields.
  @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => FleetDeviceDto) devices!: FleetDeviceDto[];
  @IsEntityId() id!: string;
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(200) name!: string;
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(100) district!: string;
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

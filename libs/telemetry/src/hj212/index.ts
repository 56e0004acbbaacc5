export * from './crc';
export * from './framer';
export * from './message';
export * from './decode';

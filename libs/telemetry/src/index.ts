export * from './metrics';
export * from './ids';
export * from './topics';
export * from './rejection';
export * from './reading.dto';
export * from './parse-readings';
export * from './line-protocol';

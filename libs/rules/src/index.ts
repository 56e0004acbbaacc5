export * from './rule-set';
export * from './window';
export * from './local-time';
export * from './engine';

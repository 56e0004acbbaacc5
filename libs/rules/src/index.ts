export * from './rule-set';
export * from './window';
export * from './schedule';
export * from './engine';

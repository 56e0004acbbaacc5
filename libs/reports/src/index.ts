export * from './period';
export * from './capture';
export * from './figures';
export * from './compute';
export * from './summary';

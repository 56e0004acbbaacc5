export * from './period';
export * from './capture';

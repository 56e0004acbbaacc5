export * from './chain';
export * from './merkle';
export * from './root';
export * from './bundle';
export * from './rfc3161';

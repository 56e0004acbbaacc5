export * from './api.module';
export * from './api-key.guard';
export * from './min-role';
export * from './http-edge';

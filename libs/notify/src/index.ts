export * from './webhook.channel';
export * from './notify.module';
export * from './rfc3161.client';

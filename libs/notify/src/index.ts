export * from './webhook.channel';
export * from './notify.module';

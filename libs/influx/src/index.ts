export * from './influx-http.client';
export * from './influx-schema';
export * from './influx-writer';
export * from './evidence';
export * from './influx-alert.channel';
export * from './influx.module';
export * from './report-source';
export * from './series-reader';

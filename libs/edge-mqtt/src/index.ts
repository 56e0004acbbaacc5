export * from './device-broker';
export * from './frame-size-guard';
export * from './mqtt-alert.channel';
export * from './mqtt-edge.module';
export * from './broker-consumer';
export * from './readings-handler';
export * from './mosquitto-accounts';
export * from './emqx-sessions';

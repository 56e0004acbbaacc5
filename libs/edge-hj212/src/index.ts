export * from './hj212-listener';
export * from './hj212-edge.module';

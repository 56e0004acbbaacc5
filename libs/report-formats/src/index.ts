export * from './tables';
export * from './csv';
export * from './xlsx';
export * from './html';
export * from './pdf';
export * from './renderer';

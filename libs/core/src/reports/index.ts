export * from './report.service';
export * from './report-schedule';

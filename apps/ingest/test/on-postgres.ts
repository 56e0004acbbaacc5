// The ingest-postgres project's setup: every service the harness starts keeps its shared stores on PostgreSQL.
import { runOnPostgres } from './harness';

runOnPostgres();

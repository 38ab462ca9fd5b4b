export { createStore, storeOn } from './store';
export type { IncidentListStatus, SimilarIncident, Store, StoredDiagnosis, StoreOptions } from './types';
export { loadMigrations, runMigrations, DEFAULT_MIGRATIONS_DIR } from './migrate';
export type { Sql, SqlSession } from './sql';

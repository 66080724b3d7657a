export { API_PREFIX, buildAdminApp, type AdminApp, type AdminDeps } from './app.js';
export { AUDIT_SUBJECT, writeAudit, type AuditRecord } from './audit.js';
export { AdminCodes, AdminError, type AdminCode } from './errors.js';
export { OPENAPI } from './openapi.js';
export { DEFAULT_CONSOLE_DIR, startAdmin, type Admin, type AdminOptions } from './service.js';
export { statsSource, type StatsSource } from './stats-source.js';
export { authenticate, bearerOf, constantTimeEqual } from './tokens.js';
export { fileInside } from './console-files.js';
export { positionOf } from './source-position.js';

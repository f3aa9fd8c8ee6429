// @module A free loopback port for tests that bind their own servers (the launcher's helper, shared).
export { freePort } from '../../services/launcher/src/readiness.ts';

// @module A free loopback port for tests that bind their own servers.
export { freePort } from '@tessera/testing';

export { freePort } from '../../src/local/free-port.js';

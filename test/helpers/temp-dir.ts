export { tempDir, type TempDir } from '../../src/local/temp-dir.js';

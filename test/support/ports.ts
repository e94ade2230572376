/** Tests pick free ports, never fixed ones (shared with the benchmarks). */
export { freePort } from '../../scripts/lib/free-port.js';

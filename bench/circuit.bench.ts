/**
 * `pnpm bench circuit`: the benchmark lives in packages/circuit/bench so that its dev
 * dependencies (ioredis, opossum, cockatiel) resolve from there.
 */
export { default } from '../packages/circuit/bench/circuit-bench.js';

// Loaded with `node --import` into a measured rotator run (bench --sample-memory): every 250 ms, and
// at exit, appends process.memoryUsage() and the CPU time so far to the file named by
// LCR_BENCH_MEMORY_FILE as JSON lines, so a peak RSS can be split into heap, external memory
// (Buffers) and the rest (code, the runtime, native allocations). Never loaded by the product.
import { appendFileSync } from 'node:fs';

const file = process.env.LCR_BENCH_MEMORY_FILE;
if (file) {
  const started = Date.now();
  const sample = () => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${JSON.stringify({ ms: Date.now() - started, rss, heapTotal, heapUsed, external, arrayBuffers, cpuUs: user + system })}\n`);
  };
  setInterval(sample, 250).unref();
  process.on('exit', sample);
}

import { stopAll } from './setup.js';

/** Stops the injectors and every process of every cluster, also after failures. */
export default async function teardown(): Promise<void> {
  await stopAll();
}

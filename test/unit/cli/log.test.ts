// src/log.ts: the readable (terminal) format leaves out fields without a value, as the JSON format does.
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log.js';

async function written(format: 'text' | 'json', fields: Record<string, unknown>): Promise<string> {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: 'info', format, tty: true, stream });
  logger.info('step 1: restart-data-plane', fields);
  await new Promise<void>((resolve) => logger.end(resolve));
  return text;
}

describe('log lines', () => {
  it.each<['text' | 'json', RegExp]>([
    ['text', /^\d\d:\d\d:\d\d info  step 1: restart-data-plane {2}why=a single step run by hand seconds=1.5\n$/],
    ['json', /^\{"level":"info","message":"step 1: restart-data-plane","seconds":1.5,"timestamp":"[^"]+","why":"a single step run by hand"\}\n$/],
  ])('%s: a field without a value is left out', async (format, shape) => {
    const line = await written(format, { purpose: undefined, why: 'a single step run by hand', seconds: 1.5 });
    expect(line).toMatch(shape);
    expect(line).not.toContain('purpose');
    expect(line).not.toContain('undefined');
  });

  it('text: fields with a value are printed, strings bare and others as JSON', async () => {
    const line = await written('text', { purpose: 'trust-new-anchor', count: 3, targets: ['a/b'] });
    expect(line).toContain('  purpose=trust-new-anchor count=3 targets=["a/b"]');
  });
});

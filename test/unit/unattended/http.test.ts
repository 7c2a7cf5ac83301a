// src/unattended/http.ts: whatever goes wrong posting to a webhook, the error shows its scheme and host at most.
import { redactUrl, WebhookNotifier } from '../../../src/unattended/http.js';

const hook = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/s3cr3t-path';
const payload = { text: 'x', blocks: [] };

describe('WebhookNotifier errors', () => {
  it.each<[string, () => Promise<Response>, RegExp]>([
    ['a refused connection', () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNREFUSED ${hook}`), { code: 'ECONNREFUSED' }) })), /^POST https:\/\/hooks\.slack\.com\/… failed: ECONNREFUSED$/],
    ['a message quoting the URL', () => Promise.reject(new TypeError(`Failed to parse URL from ${hook}`)), /^POST https:\/\/hooks\.slack\.com\/… failed: TypeError$/],
    ['an error answer', () => Promise.resolve(new Response('invalid_token', { status: 403 })), /^POST https:\/\/hooks\.slack\.com\/… answered HTTP 403: invalid_token$/],
  ])('%s', async (_name, answer, message) => {
    const failure = await new WebhookNotifier(hook, answer as typeof fetch).send(payload).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toMatch(/SECRET|s3cr3t|services/);
  });

  it('redactUrl keeps the origin only, never credentials', () => {
    expect(redactUrl('https://bot:pw@hooks.example.com:8443/a/b?token=t')).toBe('https://hooks.example.com:8443/…');
    expect(redactUrl('not a url /secret')).toBe('(invalid URL)');
  });
});

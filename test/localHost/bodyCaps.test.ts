import http from 'node:http';
import '../../src/index';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';

/**
 * Bodies are refused before they are buffered: an anonymous route (the app's `/api/{*path}`,
 * `/api/v1/openapi.json`) takes no body, so 413 arrives while the caller is still sending, and
 * the connection closes. Before, the host buffered up to 100 MB per request first: 8 parallel
 * 95 MB POSTs to /api/x took the process from 99 MB to 1 GB (docs/reliability.md).
 */
let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({
    port: 0,
    functionKey: 'caps-function-key',
    masterKey: 'caps-master-key',
    timers: false,
    log: () => undefined,
  });
});
afterAll(() => host.close());

const MB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Well past what the old host took to answer, well under what a 95 MB upload takes. */
const ANSWER_WITHIN_MS = 5_000;

interface Outcome {
  status: number;
  body: string;
  /** Body bytes the caller had written when the answer's headers arrived. */
  sentBeforeAnswer: number;
}

/**
 * POSTs to `path`, writing CHUNK after CHUNK (up to `declaredBytes`, or without a length when
 * chunked) only while no answer has come.
 */
function upload(path: string, declaredBytes: number | 'chunked'): Promise<Outcome> {
  const url = new URL(path, host.url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> =
      declaredBytes === 'chunked' ? {} : { 'Content-Length': String(declaredBytes) };
    const req = http.request(url, { method: 'POST', headers, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms; ${sent} bytes sent`));
    }, ANSWER_WITHIN_MS);
    req.on('response', (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body, sentBeforeAnswer });
      });
    });
    // The server closing the connection mid-upload is expected once it has answered.
    req.on('error', (error) => {
      if (!answered) {
        clearTimeout(timer);
        reject(error);
      }
    });
    // Counted as written by the caller: loopback socket buffers take a few MB the server never reads.
    const pump = () => {
      if (answered || (declaredBytes !== 'chunked' && sent >= declaredBytes)) return;
      sent += CHUNK.length;
      if (req.write(CHUNK)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}

test('when 8 callers each declare a 95 MB body to an anonymous route, then each gets a JSON 413 before 8 MB of it are sent', async () => {
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => upload('/api/x', 95 * MB)));
  for (const outcome of outcomes) {
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toEqual({ error: expect.objectContaining({ code: 'PayloadTooLarge' }) });
    expect(outcome.sentBeforeAnswer).toBeLessThan(8 * MB);
  }
});

test('when a body of no declared length streams to an anonymous route, then 413 before 8 MB of it are sent', async () => {
  const outcome = await upload('/api/v1/openapi.json', 'chunked');
  expect(outcome.status).toBe(413);
  expect(outcome.sentBeforeAnswer).toBeLessThan(8 * MB);
});

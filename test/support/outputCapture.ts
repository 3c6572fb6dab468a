import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs in every test worker (jest setupFilesAfterEnv). Everything the suite prints — stdout,
 * stderr, console — and every body the app's HTTP API answers with (fetch to an /api/ URL) is
 * appended to a per-worker file; the global teardown scans them all for secrets
 * (./secretScan.ts). Output still reaches the terminal as usual.
 */
const dir = process.env.TEST_OUTPUT_DIR;
if (dir) {
  const file = path.join(dir, `worker-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}.log`);
  const append = (text: string) => {
    try {
      fs.appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
    } catch {
      // The capture must never fail a test by itself.
    }
  };

  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (
      chunk: unknown,
      ...rest: unknown[]
    ) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return original(chunk, ...rest);
    };
  }

  // Jest's console does not go through process.stdout in workers; capture it at the source.
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      append(args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' '));
      original(...args);
    };
  }

  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const response = await originalFetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (/\/api\//.test(url)) {
      response
        .clone()
        .text()
        .then((body) => append(`[api ${response.status} ${url}] ${body}`))
        .catch(() => undefined);
    }
    return response;
  };
}

function safeInspect(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

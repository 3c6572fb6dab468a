import fs from 'node:fs';
import path from 'node:path';
import { scanText } from '../support/secretScan';

describe('the suite-wide secret scan', () => {
  test('when output carries the client secret, a bearer token or the storage key, then each is found by kind', () => {
    const text = [
      'ok line',
      'client_secret=sandbox-client-secret',
      'Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi',
      'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
      '{"access_token":"sandbox.at.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}',
      'refresh=sandbox.rt.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    ].join('\n');
    expect(scanText(text).map((f) => `${f.kind}@${f.line}`)).toEqual([
      'client secret@2',
      'bearer header@3',
      'storage account key@4',
      'sandbox access token@5',
      'sandbox refresh token@6',
    ]);
  });

  test('when a bearer header was redacted, then it is not a finding', () => {
    expect(scanText('Authorization: Bearer [redacted]')).toEqual([]);
  });

  test('when a test prints, then the output reaches the capture folder the teardown scans', () => {
    const marker = `capture-marker-${Date.now()}`;
    console.log(marker);
    process.stdout.write(`${marker}-stdout\n`);
    const dir = process.env.TEST_OUTPUT_DIR as string;
    const captured = fs
      .readdirSync(dir)
      .map((name) => fs.readFileSync(path.join(dir, name), 'utf8'))
      .join('\n');
    expect(captured).toContain(marker);
    expect(captured).toContain(`${marker}-stdout`);
  });
});

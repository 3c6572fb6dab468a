import { parseCommandLine } from '../../dev/sandbox/cli';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox';

describe('command line', () => {
  it('when no options are given, then the port is the default one and nothing else is set', () => {
    expect(parseCommandLine([])).toMatchObject({
      port: SANDBOX_DEFAULTS.port,
      customers: undefined,
      seed: undefined,
      bom: true,
      limits: { partnerPerMinute: 0, customerPerMinute: 0 },
      faults: {},
    });
  });

  it('when options are given, then they map onto sandbox options', () => {
    const options = parseCommandLine([
      '--port=0',
      '--customers',
      '100000',
      '--seed',
      '42',
      '--subscriptions-per-customer',
      '3',
      '--page-size',
      '50',
      '--rate-limit-per-minute',
      '600',
      '--latency-ms',
      '25',
      '--fault-503',
      '0.1',
      '--fault-reset',
      '0.01',
      '--now',
      '2025-03-01T00:00:00Z',
      '--freeze-clock',
      '--no-bom',
    ]);
    expect(options).toMatchObject({
      port: 0,
      customers: 100000,
      seed: 42,
      subscriptionsPerCustomer: 3,
      pageSize: 50,
      limits: { partnerPerMinute: 600 },
      faults: { latencyMs: 25, status503: 0.1, reset: 0.01 },
      now: '2025-03-01T00:00:00Z',
      freezeClock: true,
      bom: false,
    });
  });

  it('when Graph export options are given, then they map onto graph options', () => {
    expect(
      parseCommandLine([
        '--graph-blob-count',
        '12',
        '--graph-lines-per-blob',
        '100000',
        '--graph-running-polls',
        '0',
        '--graph-manifest',
        'inline',
        '--graph-reset-blob-rate',
        '0.1',
        '--graph-cache-blobs',
      ]),
    ).toMatchObject({
      graph: {
        blobCount: 12,
        linesPerBlob: 100000,
        runningPolls: 0,
        manifest: 'inline',
        cacheBlobs: true,
        faults: { resetBlobRate: 0.1 },
      },
    });
    expect(() => parseCommandLine(['--graph-manifest', 'both'])).toThrow(/--graph-manifest/);
  });

  it('when page sizes are given per collection, then they map onto pageSizes', () => {
    expect(parseCommandLine(['--page-sizes', 'meterUsageRecords=2, azureEntitlements=1'])).toMatchObject({
      pageSizes: { meterUsageRecords: 2, azureEntitlements: 1 },
    });
  });

  it.each(['meters=2', 'meterUsageRecords', 'meterUsageRecords=two'])(
    'when --page-sizes is %p, then it throws naming the flag',
    (value) => {
      expect(() => parseCommandLine(['--page-sizes', value])).toThrow(/--page-sizes/);
    },
  );

  it('when a number is not a number, then it throws naming the flag', () => {
    expect(() => parseCommandLine(['--customers', 'many'])).toThrow(/--customers/);
  });

  it('when an option is unknown, then it throws', () => {
    expect(() => parseCommandLine(['--colour'])).toThrow();
  });

  it('when --help is given, then help is asked for', () => {
    expect(parseCommandLine(['--help'])).toBe('help');
  });
});

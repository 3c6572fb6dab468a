import { inspect } from 'node:util';
import { ExportExpiredError, GraphError } from '../../src/graph/errors';
import { registerSecret } from '../../src/observability/redact';

describe('Graph client errors', () => {
  it('redact what a server echoed: a SAS signature, a bearer token, a registered secret', () => {
    registerSecret('registered-graph-token-value');
    const error = new GraphError({
      status: 400,
      graphCode: 'BadRequest',
      description:
        'rejected ?sv=1&sig=c2VjcmV0c2lnbmF0dXJl and Bearer eyJabc.def and registered-graph-token-value',
      method: 'GET',
      path: '/v1.0/reports/partners/billing/operations/x',
      attempts: 2,
    });
    for (const text of [error.message, JSON.stringify(error), inspect(error), String(error.description)]) {
      expect(text).not.toContain('c2VjcmV0c2lnbmF0dXJl');
      expect(text).not.toContain('eyJabc.def');
      expect(text).not.toContain('registered-graph-token-value');
    }
    expect(error.toJSON()).toMatchObject({
      code: 'GraphHttp',
      status: 400,
      graphCode: 'BadRequest',
      attempts: 2,
    });
  });

  it('ExportExpired says to start again and names the blob only', () => {
    const error = new ExportExpiredError('sasExpired', 'part-00001-x.c000.json.gz', 403, 'req-1');
    expect(error.message).toContain('start a new export');
    expect(error.toJSON()).toEqual({
      name: 'ExportExpiredError',
      code: 'ExportExpired',
      message: error.message,
      reason: 'sasExpired',
      resource: 'part-00001-x.c000.json.gz',
      status: 403,
      requestId: 'req-1',
    });
  });
});

import { SANDBOX_DEFAULTS, startSandbox, type Sandbox } from '../../dev/sandbox';
import { pcGet, refreshGrant, tokenRequest } from './support';

let sandbox: Sandbox;

beforeEach(async () => {
  sandbox = await startSandbox({
    customers: 5,
    now: '2025-03-10T08:00:00Z',
    freezeClock: true,
    refreshGraceSeconds: 60,
    accessTokenLifetimeSeconds: 3600,
  });
});
afterEach(() => sandbox.close());

const customerId = () => sandbox.data.customers().next().value?.id ?? '';

describe('token endpoint', () => {
  it('when the default credentials are used, then an access token and a new refresh token come back', async () => {
    const { status, body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(typeof body.access_token).toBe('string');
    expect(body.refresh_token).not.toBe(SANDBOX_DEFAULTS.refreshToken);
    expect(sandbox.latestRefreshToken()).toBe(body.refresh_token);
    const usage = await pcGet(sandbox, '/v1/usagesummary', { token: body.access_token as string });
    expect(usage.status).toBe(200);
    expect(sandbox.counters.snapshot().tokensIssued.refresh_token).toBe(1);
  });

  it('when the rotated refresh token is used, then it works and rotates again', async () => {
    const first = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    const second = await refreshGrant(sandbox, first.body.refresh_token as string);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
  });

  it('when the old refresh token is used within the grace period, then it still works', async () => {
    await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    sandbox.clock.advance(59_000);
    expect((await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken)).status).toBe(200);
  });

  it('when the old refresh token is used after the grace period, then invalid_grant AADSTS700082', async () => {
    await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    sandbox.clock.advance(61_000);
    const { status, body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.error_codes).toEqual([700082]);
    expect(body.error_description).toMatch(/^AADSTS700082: /);
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining([
        'error',
        'error_description',
        'error_codes',
        'timestamp',
        'trace_id',
        'correlation_id',
      ]),
    );
  });

  it('when an issued refresh token is 90 days old, then invalid_grant', async () => {
    const first = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    sandbox.clock.advance(91 * 24 * 3600 * 1000);
    const { status, body } = await refreshGrant(sandbox, first.body.refresh_token as string);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('when the refresh token is revoked, then invalid_grant', async () => {
    expect(sandbox.revokeRefreshToken(SANDBOX_DEFAULTS.refreshToken)).toBe(true);
    const { status, body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_grant', error_codes: [50173] });
  });

  it('when the refresh token was never issued, then invalid_grant', async () => {
    const { status, body } = await refreshGrant(sandbox, 'made-up');
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('when the client secret is wrong, then 401 invalid_client', async () => {
    const { status, body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken, {
      client_secret: 'nope',
    });
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
  });

  it('when the client id is unknown, then 400 unauthorized_client', async () => {
    const { status, body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken, {
      client_id: '00000000-0000-4000-8000-000000000000',
    });
    expect(status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
  });

  it('when the tenant in the path is another one, then 400', async () => {
    const { status } = await tokenRequest(
      sandbox,
      { grant_type: 'refresh_token', refresh_token: SANDBOX_DEFAULTS.refreshToken },
      '00000000-0000-4000-8000-000000000000',
    );
    expect(status).toBe(400);
  });

  it('when client credentials ask for the wrong scope, then invalid_scope', async () => {
    // Partner Center's and Graph's /.default are the two the sandbox serves; anything else is refused.
    for (const scope of [
      'https://management.azure.com/.default',
      'https://graph.microsoft.com/User.Read',
      'https://graph.microsoft.com',
    ]) {
      const { status, body } = await tokenRequest(sandbox, {
        grant_type: 'client_credentials',
        client_id: SANDBOX_DEFAULTS.clientId,
        client_secret: SANDBOX_DEFAULTS.clientSecret,
        scope,
      });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
    }
  });
});

describe('bearer tokens on usage calls', () => {
  const expectUnauthorized = async (headers: Record<string, string>) => {
    const response = await pcGet(sandbox, '/v1/usagesummary', { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^OAuth realm=/);
    expect(response.body).toMatchObject({ source: 'PartnerFD', data: [] });
    expect(typeof response.body.code).toBe('number');
  };

  it('when no token is sent, then 401 with WWW-Authenticate', () => expectUnauthorized({}));
  it('when the header is not a bearer token, then 401', () =>
    expectUnauthorized({ Authorization: 'Basic dXNlcjpwdw==' }));
  it('when the token was never issued, then 401', () =>
    expectUnauthorized({ Authorization: 'Bearer sandbox.at.forged' }));

  it('when the token comes from another sandbox, then 401', async () => {
    const other = await startSandbox({ customers: 1 });
    try {
      await expectUnauthorized({ Authorization: `Bearer ${other.issueAccessToken()}` });
    } finally {
      await other.close();
    }
  });

  it('when the access token outlives expires_in on the sandbox clock, then 401', async () => {
    const { body } = await refreshGrant(sandbox, SANDBOX_DEFAULTS.refreshToken);
    sandbox.clock.advance(3599_000);
    expect((await pcGet(sandbox, '/v1/usagesummary', { token: body.access_token as string })).status).toBe(
      200,
    );
    sandbox.clock.advance(1_000);
    await expectUnauthorized({ Authorization: `Bearer ${body.access_token as string}` });
  });

  it('when an app-only token calls an App+User-only API, then 403; the resources call accepts it', async () => {
    const { status, body } = await tokenRequest(sandbox, {
      grant_type: 'client_credentials',
      client_id: SANDBOX_DEFAULTS.clientId,
      client_secret: SANDBOX_DEFAULTS.clientSecret,
      scope: 'https://api.partnercenter.microsoft.com/.default',
    });
    expect(status).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    const token = body.access_token as string;
    const id = customerId();
    for (const uri of [
      '/v1/usagesummary',
      '/v1/customers/usagerecords',
      `/v1/customers/${id}/usagesummary`,
      `/v1/customers/${id}/subscriptions/usagerecords`,
    ]) {
      const response = await pcGet(sandbox, uri, { token });
      expect({ uri, status: response.status, source: response.body.source }).toEqual({
        uri,
        status: 403,
        source: 'PartnerFD',
      });
    }
    const resources = await pcGet(
      sandbox,
      `/v1/customers/${id}/subscriptions/00000000-0000-4000-8000-000000000000/usagerecords/resources`,
      {
        token,
      },
    );
    expect(resources.status).toBe(404); // past authorization: the subscription simply does not exist
    expect(sandbox.counters.snapshot().tokensIssued.client_credentials).toBe(1);
  });

  it('when an App+User token lacks the MFA claim, then 401 with code 900421', async () => {
    const response = await pcGet(sandbox, '/v1/usagesummary', {
      token: sandbox.issueAccessToken({ mfa: false }),
    });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe(900421);
  });
});

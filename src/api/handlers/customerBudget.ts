import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  changeBudget,
  effectiveBudget,
  type BudgetActor,
  type BudgetChangeDependencies,
  type BudgetStore,
  type ChangedBudget,
  type EffectiveBudget,
} from '../../domain/budget';
import { errorCode } from '../../domain/errors';
import type { Decimal } from '../../domain/usage';
import type { CustomerView, UsageReader } from '../../domain/usageReader';
import { contextLogger } from '../../observability/logger';
import { PartnerCenterError } from '../../partnerCenter/errors';
import { endpoint, type ApiHandler } from '../endpoint';
import { ApiError, quote } from '../errors';
import { readJsonObject } from '../jsonBody';
import { chooseFormat } from '../negotiation';
import { budgetChangeBody, customerBudgetBody } from '../representation';
import { BUDGET_AMOUNT, DEFAULT_RUNS, MAX_BUDGET_DIGITS, MAX_RUNS, QUERIES } from '../schemas';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId, parseLimit, readQuery } from '../validation';
import { foundCustomer } from './customerLookup';

/** What the budget routes read: the usage reader (the snapshot's budget) and the budget store. */
export interface BudgetReadDependencies extends UsageApiDependencies {
  budgets: BudgetStore;
}

/**
 * GET /api/v1/customers/{customerId}/budget (function level): the budget as the cache holds it,
 * never asking Partner Center: the snapshot's, or a change made through PUT since. Two point
 * reads in parallel (the customer's view and its changed budget). `no-cache`: a PUT can change
 * it before the next snapshot, so a copy is revalidated (304 while the ETag holds).
 */
export function createCustomerBudgetHandler(deps: BudgetReadDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint(
    {
      GET: async (request) => {
        const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
        readQuery(request.query, QUERIES.none);
        chooseFormat(request.headers.get('accept'), undefined, ['json']);
        const { view, budget } = await currentBudget(deps, customerId, { requireBudget: true });
        const response = api.respond(request, {
          envelope: {
            snapshot: view ? api.meta(view.snapshot, view.summary) : null,
            data: customerBudgetBody(customerId, budget as EffectiveBudget),
          },
        });
        return { ...response, headers: { ...response.headers, 'Cache-Control': 'private, no-cache' } };
      },
    },
    { servedElsewhere: ['PUT'] },
  );
}

export interface BudgetChangeHandlerDependencies extends Omit<BudgetChangeDependencies, 'store' | 'now'> {
  reader: Pick<UsageReader, 'getCustomer'>;
  budgets: BudgetStore;
  /** App Service Authentication is on (WEBSITE_AUTH_ENABLED): principal headers come from the platform. */
  platformAuthentication: boolean;
  clock?: () => Date;
}

/**
 * PUT /api/v1/customers/{customerId}/budget (admin level), body `{"amount": "1500.00"}` or
 * `{"amount": null}`: sets the budget in Partner Center, then in the cache, and records the change.
 * Partner Center refusing or failing (403, 429 after the client's retries, 5xx) changes nothing
 * here. Repeating a PUT is safe: the amount is absolute.
 */
export function createBudgetChangeHandler(deps: BudgetChangeHandlerDependencies): ApiHandler {
  const now = deps.clock ?? (() => new Date());
  return endpoint(
    {
      PUT: async (request, context) => {
        const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
        readQuery(request.query, QUERIES.none);
        chooseFormat(request.headers.get('accept'), undefined, ['json']);
        const amount = await readBudgetRequest(request);
        const before = await currentBudget(deps, customerId, { requireBudget: false });
        const log = contextLogger(context);
        const { change, budget } = await changeBudget(
          {
            ...deps,
            store: deps.budgets,
            now,
            onAbandonFailed: (error, pending) =>
              log.error('budget change refused, and its pending record could not be removed', {
                error,
                customerId,
                changeId: pending.changeId,
              }),
            onReconcileFailed: (error, applied) =>
              log.warn('budget change raced another; Partner Center could not be re-read', {
                error,
                customerId,
                changeId: applied.changeId,
              }),
          },
          {
            customerId,
            amount,
            oldAmount: before.budget?.amount,
            actor: actorOf(request, deps.platformAuthentication),
            expected: before.changed,
          },
        ).catch((error: unknown) => {
          throw partnerCenterFailure(error, customerId);
        });
        log.info('budget changed', {
          customerId,
          changeId: change.changeId,
          oldAmount: change.oldAmount ?? null,
          newAmount: change.newAmount ?? null,
        });
        // A change that raced another caches what Partner Center then held; if even that failed, what is cached now.
        const cached = budget
          ? { amount: budget.amount, source: 'change' as const, asOf: budget.changedAt }
          : (await currentBudget(deps, customerId, { requireBudget: false })).budget;
        return json(200, {
          data: {
            budget: customerBudgetBody(customerId, cached as EffectiveBudget),
            change: budgetChangeBody(change),
          },
        });
      },
    },
    { servedElsewhere: ['GET'] },
  );
}

/** GET /api/v1/customers/{customerId}/budget/changes (admin level): the audit trail, newest first, paged. */
export function createBudgetChangesHandler(deps: BudgetReadDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      const query = readQuery(request.query, QUERIES.budgetChanges);
      const limit = parseLimit(query.get('limit'), MAX_RUNS, DEFAULT_RUNS);
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const binding = { route: 'budgetChanges', ids: [customerId], query: {} };
      const storeToken = await api.tokens.unwrap(query.get('continuationToken'), binding);
      const page = await deps.budgets.listChanges(customerId, { limit, continuationToken: storeToken });
      if (page.items.length === 0 && storeToken === undefined)
        foundCustomer(await deps.reader.getCustomer(customerId), customerId);
      return json(200, {
        data: page.items.map(budgetChangeBody),
        continuationToken: (await api.tokens.wrap(page.continuationToken, binding)) ?? null,
      });
    },
  });
}

async function currentBudget(
  deps: { reader: Pick<UsageReader, 'getCustomer'>; budgets: BudgetStore },
  customerId: string,
  options: { requireBudget: boolean },
): Promise<{ view?: CustomerView; budget?: EffectiveBudget; changed?: ChangedBudget }> {
  const [lookup, changed] = await Promise.all([
    deps.reader.getCustomer(customerId),
    deps.budgets.getChangedBudget(customerId),
  ]);
  // Unknown is 404 always; known but not snapshotted is 404 only when nothing says what its budget is.
  if (
    lookup.status === 'unknown' ||
    (lookup.status === 'notSnapshotted' && !changed && options.requireBudget)
  )
    foundCustomer(lookup, customerId);
  const view = lookup.status === 'found' ? lookup.value : undefined;
  const budget = effectiveBudget(
    view && { amount: view.summary?.budget, takenAt: view.snapshot.takenAt },
    changed,
  );
  return { view, budget, changed };
}

/** The PUT body, strictly: JSON `{"amount": "<decimal>" | null}` and nothing else. */
async function readBudgetRequest(request: HttpRequest): Promise<Decimal | undefined> {
  const body = await readJsonObject(request, '{"amount": "1500.00"}');
  const names = Object.keys(body);
  const unknown = names.find((name) => name !== 'amount');
  if (unknown !== undefined)
    throw new ApiError('InvalidBody', `Unknown field ${quote(unknown)}; expected amount`);
  if (!names.includes('amount'))
    throw new ApiError('InvalidBody', 'amount is missing; null removes the budget');
  const amount = (body as { amount: unknown }).amount;
  if (amount === null) return undefined;
  if (typeof amount !== 'string') {
    throw new ApiError(
      'InvalidBudgetAmount',
      'amount must be a decimal string such as "1500" or "99.95", or null',
    );
  }
  if (!BUDGET_AMOUNT.test(amount) || amount.replace('.', '').replace(/^0+/, '').length > MAX_BUDGET_DIGITS) {
    throw new ApiError(
      'InvalidBudgetAmount',
      `amount ${quote(amount)} is not a non-negative decimal with at most 6 decimals and ${MAX_BUDGET_DIGITS} digits`,
    );
  }
  return amount;
}

const PRINCIPAL_TEXT = 256;

/** The caller as far as the request tells (see BudgetActor): the master key, and a principal if any. */
function actorOf(request: HttpRequest, platformAuthentication: boolean): BudgetActor {
  const header = (name: string) => {
    const value = request.headers.get(name);
    // Bounded and printable, so an odd header cannot bloat or garble the audit trail.
    return value === null ? undefined : value.replace(/[^\x20-\x7e]/g, '?').slice(0, PRINCIPAL_TEXT);
  };
  const id = header('x-ms-client-principal-id');
  if (id === undefined) return { key: 'master' };
  return {
    key: 'master',
    principal: {
      id,
      name: header('x-ms-client-principal-name') ?? '',
      identityProvider: header('x-ms-client-principal-idp') ?? '',
      verified: platformAuthentication,
    },
  };
}

/** Partner Center's refusal or failure as the caller's typed error; anything else as it is. */
function partnerCenterFailure(error: unknown, customerId: string): unknown {
  const pc = error instanceof PartnerCenterError ? error : undefined;
  const ids = pc?.correlationId ? ` (MS-CorrelationId ${pc.correlationId})` : '';
  if (pc?.status === 404) {
    return new ApiError('CustomerNotFound', `Partner Center does not know customer ${customerId}${ids}`);
  }
  if (pc?.status === 429) {
    return new ApiError(
      'PartnerCenterThrottled',
      `Partner Center kept throttling the change; nothing was changed, try again later${ids}`,
      { 'Retry-After': '60' },
    );
  }
  if (pc && pc.status < 500) {
    return new ApiError(
      'PartnerCenterRefused',
      `Partner Center refused the change with ${pc.status}${pc.pcCode === undefined ? '' : ` code ${pc.pcCode}`}` +
        `${pc.status === 403 ? ' (the consenting user may lack the Admin agent role)' : ''}; nothing was changed${ids}`,
    );
  }
  const code = errorCode(error);
  if (
    pc ||
    code === 'PartnerCenterTimeout' ||
    code === 'PartnerCenterNetwork' ||
    code === 'ResponseShape' ||
    code === 'ReconsentRequired' ||
    code === 'TokenRequestFailed'
  ) {
    // A 5xx, a timeout or an unreadable answer does not say whether Partner Center applied it.
    return new ApiError(
      'PartnerCenterUnavailable',
      `Partner Center did not confirm the change (${pc ? `${pc.status}` : code}); the cache is unchanged. ` +
        `Repeat the PUT (the amount is absolute), or the next snapshot shows Partner Center's budget${ids}`,
    );
  }
  return error;
}

function json(status: number, body: unknown): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(body),
  };
}

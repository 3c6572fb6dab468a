import { compareDecimal } from './decimal';
import type { CustomerMonthlyUsageRecord } from './usage';

/**
 * overBudget: the customer has a budget and its total cost is above it, compared exactly on the
 * decimal strings (as Partner Center counts customersOverBudget); percentUsed is not used.
 */
export function isOverBudget(record: Pick<CustomerMonthlyUsageRecord, 'budget' | 'totalCost'>): boolean {
  if (record.budget === undefined) return false;
  return compareDecimal(record.totalCost, record.budget) === 1;
}

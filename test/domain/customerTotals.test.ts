import { sumCustomerTotals } from '../../src/domain/customerTotals';

describe('sumCustomerTotals', () => {
  test('when records come in several currencies, then each currency is summed exactly and apart, locales for legacy, codes for Azure plans', () => {
    const totals = sumCustomerTotals([
      { totalCost: '0.1', currencyCode: 'EUR', usdTotalCost: '0.11', isUpgraded: true },
      { totalCost: '0.2', currencyCode: 'eur', usdTotalCost: '0.22', isUpgraded: true },
      { totalCost: '120.5682999999995904716', currencyLocale: 'fr-FR', usdTotalCost: '0', isUpgraded: false },
      { totalCost: '1', currencyLocale: 'FR-fr', isUpgraded: false },
      { totalCost: '5', currencyCode: 'GBP', isUpgraded: true },
    ]);
    expect(totals).toEqual({
      byCurrency: [
        { currencyCode: 'EUR', totalCost: '0.3', customers: 2, azurePlanCustomers: 2 },
        { currencyCode: 'GBP', totalCost: '5', customers: 1, azurePlanCustomers: 1 },
        {
          currencyLocale: 'fr-FR',
          totalCost: '121.5682999999995904716',
          customers: 2,
          azurePlanCustomers: 0,
        },
      ],
      // Legacy placeholder 0 is no USD figure; GBP sent none.
      usd: { totalCost: '0.33', customers: 2 },
      customers: 5,
      customersWithoutTotal: 0,
    });
  });

  test('when a record has no totalCost or one that is not a number, then it is counted apart and the rest still sum', () => {
    const totals = sumCustomerTotals([
      { currencyCode: 'USD' },
      { totalCost: '=1+1', currencyCode: 'USD' },
      { totalCost: '2', currencyCode: 'USD', usdTotalCost: 'NaN' },
    ]);
    expect(totals).toEqual({
      byCurrency: [{ currencyCode: 'USD', totalCost: '2', customers: 1, azurePlanCustomers: 0 }],
      usd: { totalCost: '0', customers: 0 },
      customers: 1,
      customersWithoutTotal: 2,
    });
  });
});

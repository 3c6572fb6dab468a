import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

/**
 * Managed identity in Azure (the user-assigned identity named by AZURE_CLIENT_ID), developer
 * credentials (Azure CLI, azd, VS Code) on a workstation: DefaultAzureCredential tries them in
 * that order.
 */
export function createAzureCredential(managedIdentityClientId?: string): TokenCredential {
  return managedIdentityClientId
    ? new DefaultAzureCredential({ managedIdentityClientId })
    : new DefaultAzureCredential();
}

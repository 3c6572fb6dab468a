import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../config/settings';

/**
 * The credential for Table Storage and Key Vault. In Azure (see `runsInAzure`): the user-assigned
 * managed identity named by AZURE_CLIENT_ID and nothing else, so a misconfigured identity fails
 * at once instead of falling through a chain of developer credentials. Elsewhere:
 * DefaultAzureCredential, which finds a developer's Azure CLI, azd or VS Code sign-in.
 */
export function createAzureCredential(identity: Settings['identity']): TokenCredential {
  if (identity.kind === 'managedIdentity')
    return new ManagedIdentityCredential({ clientId: identity.clientId });
  return identity.clientId
    ? new DefaultAzureCredential({ managedIdentityClientId: identity.clientId })
    : new DefaultAzureCredential();
}

// Every role assignment, each scoped to the one resource it is about. Timer triggers take their host
// locks as blob leases (Storage Blob Data Owner covers it); the queue role is per queue.
param storageAccountName string
param keyVaultName string
param applicationInsightsName string

@description('Principal id of the function app\'s user-assigned identity.')
param managedIdentityPrincipalId string

@description('The snapshot-request queue (SNAPSHOT_REQUEST_QUEUE); storage-account.bicep provisions it and its -poison twin.')
param snapshotRequestQueueName string

@description('The usage export\'s work queue (USAGE_EXPORT_QUEUE), provisioned with its -poison twin like the request queue.')
param usageExportQueueName string

// Every queue a trigger reads, with its -poison twin: the role is scoped to each of them.
var appQueues = [
  snapshotRequestQueueName
  '${snapshotRequestQueueName}-poison'
  usageExportQueueName
  '${usageExportQueueName}-poison'
  // usageExportPoison reads the -poison queue; the host moves what fails there to its own twin.
  '${usageExportQueueName}-poison-poison'
]

@description('Object id of a developer or CI principal to grant the debugging roles. Empty: none.')
param userPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource requestQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for queueName in appQueues: {
    parent: queueService
    name: queueName
  }
]

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Host storage: the Functions host reads and writes blobs and creates its containers (timer locks,
// function keys, the deployment package). Owner, not Contributor: the host manages blob leases and ACLs.
resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, managedIdentityPrincipalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Usage tables: the app creates its tables at startup and reads and writes their entities. Scoped to
// the account because the table names are not known here (and creating a table needs account scope).
resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, managedIdentityPrincipalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Request queues: the app sends to the queue, and the host's trigger reads, renews, deletes and moves
// messages to the -poison queue (send alone would be Message Sender; processing needs Contributor).
// Scoped to each queue, not the account: nothing else in the account is reachable through it.
resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in appQueues: {
    name: guid(requestQueues[i].id, managedIdentityPrincipalId, storageQueueDataContributorRoleId)
    scope: requestQueues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
      principalId: managedIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Secrets: the app reads the client secret and reads and writes new versions of the refresh token.
// Secrets User cannot write, so Officer it is; the vault holds nothing else.
resource appKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, managedIdentityPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry: Application Insights has local auth off and accepts only Entra-authenticated ingestion.
resource appMonitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Optional, for the person (or pipeline) running azd: set the two secrets after deployment and run the
// app locally against the real tables. Nothing for host storage: locally the host uses Azurite.
resource userTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(storage.id, userPrincipalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(vault.id, userPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

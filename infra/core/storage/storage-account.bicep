// One account for the Functions host (locks, keys, the deployment package), the usage tables and the
// request queues.
// Entra ID only: no shared keys, so no connection string exists to leak.
param name string
param location string = resourceGroup().location
param tags object = {}

@description('Blob container Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('Redundancy. The usage tables keep history Partner Center cannot give back, so not LRS by default.')
param sku string = 'Standard_ZRS'

@description('Lock the account against deletion (CanNotDelete): deleting it would delete the history.')
param enableDeleteLock bool = false

@description('Storage queues the app\'s queue triggers read; each gets its <name>-poison twin, where the host moves a message that keeps failing.')
param queueNames string[] = []

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: sku
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// CanNotDelete blocks deleting the account (and with it every table), not reading or writing data.
resource deleteLock 'Microsoft.Authorization/locks@2020-05-01' = if (enableDeleteLock) {
  name: 'usage-history-no-delete'
  scope: storage
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the usage history Partner Center cannot give back. Remove this lock before deleting the account.'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Declared rather than left to the host (union: a listed -poison queue is declared once): its identity holds a queue-scoped role only (see rbac.bicep),
// which cannot create queues.
resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in union(flatten(map(queueNames, (q) => [q, '${q}-poison'])), []): {
    parent: queueService
    name: queueName
  }
]

// No tables are declared: their names are TABLE_NAME_PREFIX plus suffixes the storage adapter owns,
// and the app creates them at startup (it holds Storage Table Data Contributor on this account).
// Declaring guessed names here would leave empty tables behind whenever the code renames one.

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
output queueEndpoint string = storage.properties.primaryEndpoints.queue

// Partner Usage Cache: everything `azd up` provisions. Subscription scope so the resource group is part
// of the template; every resource lives in that one group, one module per concern.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the unique token in every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

// Partner Center: the two values the app cannot default (settings.ts marks them required).
@minLength(36)
@maxLength(36)
@description('The partner\'s own Entra tenant id (PARTNER_CENTER_TENANT_ID).')
param partnerCenterTenantId string

@minLength(36)
@maxLength(36)
@description('Application (client) id of the Partner Center app registration (PARTNER_CENTER_CLIENT_ID).')
param partnerCenterClientId string

// The rest default to exactly what src/config/settings.ts defaults to; test/infra checks they agree.
@description('Partner Center REST API base URL (PARTNER_CENTER_BASE_URL).')
param partnerCenterBaseUrl string = 'https://api.partnercenter.microsoft.com'

@description('Entra authority host for the refresh-token grant (PARTNER_CENTER_AUTHORITY_HOST).')
// The literal is the app's own default (settings.ts), which the suite holds this default to; Partner
// Center's refresh-token grant runs against the public cloud only, so environment() would not help.
#disable-next-line no-hardcoded-env-urls
param partnerCenterAuthorityHost string = 'https://login.microsoftonline.com'

@description('Key Vault secret name of the app registration client secret. Only the name: the value is set by the operator after deployment.')
param partnerCenterClientSecretName string = 'partner-center-client-secret'

@description('Key Vault secret name of the rotating refresh token. Only the name: the value is set by the operator after deployment.')
param partnerCenterRefreshTokenName string = 'partner-center-refresh-token'

@description('When a snapshot run starts: six-field NCRONTAB, UTC (SNAPSHOT_SCHEDULE).')
param snapshotSchedule string = '0 0 */6 * * *'

@description('How often an unfinished or requested snapshot run is continued: six-field NCRONTAB, UTC (SNAPSHOT_RESUME_SCHEDULE).')
param snapshotResumeSchedule string = '0 */5 * * * *'

@description('When history older than the retention period is deleted: six-field NCRONTAB, UTC (RETENTION_SCHEDULE).')
param retentionSchedule string = '0 30 2 * * *'

@description('When the usage export starts the current (and, until billed, the previous) period\'s export: six-field NCRONTAB, UTC (USAGE_EXPORT_SCHEDULE).')
param usageExportSchedule string = '0 0 4 * * *'

@description('How often running usage exports are polled: six-field NCRONTAB, UTC (USAGE_EXPORT_POLL_SCHEDULE).')
param usageExportPollSchedule string = '0 */5 * * * *'

@description('USAGE_EXPORT_QUEUE: the usage export\'s blob and merge messages, read by the usageExportWork function; provisioned with its -poison twin.')
@minLength(3)
@maxLength(56)
param usageExportQueueName string = 'usage-export'

@description('Prefix of the usage table names (TABLE_NAME_PREFIX). The app creates its tables at startup.')
param tableNamePrefix string = 'usage'

@description('SNAPSHOT_REQUEST_QUEUE: the queue POST /api/v1/snapshots writes to and the snapshotRequest function reads; provisioned with its -poison twin.')
@minLength(3)
@maxLength(56)
param snapshotRequestQueueName string = 'snapshot-requests'

// One instance is enough: timers take a blob lease, and the read routes are light. The cap bounds cost
// and the fan-out of Partner Center calls; raise it for many portal users.
@minValue(1)
@maxValue(1000)
@description('Most Flex Consumption instances the app scales out to.')
param maximumInstanceCount int = 10

@allowed([
  512
  2048
  4096
])
@description('Memory of one Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret stays recoverable. Purge protection keeps it for the whole period.')
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Put App Service authentication (Entra ID) in front of the HTTP API. /api/health stays anonymous.')
param enableEntraAuth bool = false

@description('Client id of the Entra app registration that protects the API. Required when enableEntraAuth is true.')
param entraAuthClientId string = ''

@description('Comma-separated client ids of the applications (partner portals) allowed to call the API when enableEntraAuth is true. Required then: a token the tenant issued to any other app is refused.')
param entraAuthAllowedClientIds string = ''

@allowed([
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_LRS'
])
@description('Redundancy of the storage account that holds the usage history, which Partner Center cannot give back. Zone-redundant unless changed; GZRS adds a copy in the paired region.')
param storageSku string = 'Standard_ZRS'

@description('Put a CanNotDelete lock on the storage account that holds the usage history. Off by default: writing a lock needs Owner or User Access Administrator, and a lock makes `azd down` fail until it is removed.')
param enableDeleteLock bool = false

@minValue(1)
@maxValue(2880)
@description('Minutes without a successful snapshot run after which data counts as stale (STALE_AFTER_MINUTES) and the stale-data alert fires. At most two days: the longest look-back of a log alert.')
param staleAfterMinutes int = 720

@description('Email address the alerts notify. Empty: the alerts fire in the portal only.')
param alertEmailAddress string = ''

@description('Object id of the deploying user (azd sets AZURE_PRINCIPAL_ID). Empty: no developer roles.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principal principalId is: a person, or the CI identity that runs azd.')
param principalType string = 'User'

@description('Give principalId the data roles to set the two secrets and read the usage tables from a developer machine.')
param allowUserIdentityPrincipal bool = true

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// Checked here, in a variable, so that ARM fails the deployment at validation, before anything is created.
var entraAuthClientIdChecked = enableEntraAuth && empty(entraAuthClientId)
  ? fail('enableEntraAuth is true but entraAuthClientId is empty: set ENTRA_AUTH_CLIENT_ID to the client id of the app registration that protects the API')
  : entraAuthClientId
var entraAuthAllowedApplications = filter(map(split(entraAuthAllowedClientIds, ','), id => trim(id)), id => !empty(id))
var entraAuthAllowedApplicationsChecked = enableEntraAuth && empty(entraAuthAllowedApplications)
  ? fail('enableEntraAuth is true but entraAuthAllowedClientIds is empty: set ENTRA_AUTH_ALLOWED_CLIENT_IDS to the client ids of the applications allowed to call the API')
  : entraAuthAllowedApplications
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Flex Consumption deploys from this blob container; the name is unique per app and at most 52 characters.
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity './core/identity/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
    sku: storageSku
    enableDeleteLock: enableDeleteLock
    // The usage export's -poison queue is itself read (usageExportPoison), so it is listed too: its
    // own -poison twin is then provisioned, where the host would move a poison message that fails.
    queueNames: [
      snapshotRequestQueueName
      usageExportQueueName
      '${usageExportQueueName}-poison'
    ]
  }
}

module keyVault './core/security/key-vault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module monitoring './core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

// The app starts as soon as it exists and reaches storage by identity, so its roles come first.
module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [
    rbac
  ]
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    partnerCenterTenantId: partnerCenterTenantId
    partnerCenterClientId: partnerCenterClientId
    partnerCenterBaseUrl: partnerCenterBaseUrl
    partnerCenterAuthorityHost: partnerCenterAuthorityHost
    partnerCenterClientSecretName: partnerCenterClientSecretName
    partnerCenterRefreshTokenName: partnerCenterRefreshTokenName
    snapshotSchedule: snapshotSchedule
    snapshotResumeSchedule: snapshotResumeSchedule
    retentionSchedule: retentionSchedule
    usageExportSchedule: usageExportSchedule
    usageExportPollSchedule: usageExportPollSchedule
    usageExportQueueName: usageExportQueueName
    tableNamePrefix: tableNamePrefix
    snapshotRequestQueueName: snapshotRequestQueueName
    staleAfterMinutes: string(staleAfterMinutes)
    enableEntraAuth: enableEntraAuth
    entraAuthClientId: entraAuthClientIdChecked
    entraAuthAllowedApplications: entraAuthAllowedApplicationsChecked
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    managedIdentityPrincipalId: identity.outputs.principalId
    snapshotRequestQueueName: snapshotRequestQueueName
    usageExportQueueName: usageExportQueueName
    userPrincipalId: allowUserIdentityPrincipal ? principalId : ''
    userPrincipalType: principalType
  }
}

module alerts './app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: abbrs.insightsScheduledQueryRules
    nameSuffix: resourceToken
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alertEmailAddress: alertEmailAddress
    staleAfterMinutes: staleAfterMinutes
  }
}

// Read by azd (.azure/<env>/.env) and by the commands in docs/deploy.md. Names and endpoints only:
// no key, connection string or secret value is ever an output.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output PARTNER_CENTER_CLIENT_SECRET_NAME string = partnerCenterClientSecretName
output PARTNER_CENTER_REFRESH_TOKEN_NAME string = partnerCenterRefreshTokenName
output TABLE_NAME_PREFIX string = tableNamePrefix

// Holds the Partner Center client secret and the rotating refresh token. RBAC only (no access
// policies), soft delete with purge protection so a deleted or overwritten token can be recovered.
param name string
param location string = resourceGroup().location
param tags object = {}

@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Log Analytics workspace that receives the vault\'s audit log (every secret read and write).')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Who read or wrote which secret, and when: the refresh token is the one credential that, once leaked,
// reaches every customer, so each access lands in Log Analytics.
resource auditLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

// The two secrets are deliberately not declared. A Microsoft.KeyVault/vaults/secrets resource needs a
// value, so the template would either carry one or write a placeholder as a new version on every
// `azd provision`, replacing the refresh token the app rotated. The operator sets both values once
// after deployment (docs/deploy.md); the app writes new refresh-token versions itself.

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri

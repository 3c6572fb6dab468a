// The function app: Flex Consumption, Linux, Node 22, one user-assigned identity, identity-based host
// storage, and exactly the app settings src/config/settings.ts reads (test/infra holds it to that).
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}

@description('azd finds the app to deploy to by this tag; it must match the service name in azure.yaml.')
param serviceName string = 'api'

param identityId string
param identityClientId string
param storageAccountName string
param deploymentStorageContainerName string
param applicationInsightsName string
param keyVaultUri string

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

param partnerCenterTenantId string
param partnerCenterClientId string
param partnerCenterBaseUrl string
param partnerCenterAuthorityHost string
param partnerCenterClientSecretName string
param partnerCenterRefreshTokenName string
param snapshotSchedule string

@description('SNAPSHOT_RESUME_SCHEDULE: six-field NCRONTAB, UTC.')
param snapshotResumeSchedule string

@description('RETENTION_SCHEDULE: six-field NCRONTAB, UTC.')
param retentionSchedule string
param tableNamePrefix string

@description('SNAPSHOT_REQUEST_QUEUE: the snapshot-request queue.')
param snapshotRequestQueueName string

@description('USAGE_EXPORT_SCHEDULE: six-field NCRONTAB, UTC.')
param usageExportSchedule string

@description('USAGE_EXPORT_POLL_SCHEDULE: six-field NCRONTAB, UTC.')
param usageExportPollSchedule string

@description('USAGE_EXPORT_QUEUE: the usage export\'s work queue.')
param usageExportQueueName string

@description('STALE_AFTER_MINUTES, as the app setting string; main.bicep feeds the stale-data alert the same value.')
param staleAfterMinutes string = '720'

param enableEntraAuth bool = false
param entraAuthClientId string = ''
@description('Client ids of the applications allowed to call the API when enableEntraAuth is true.')
param entraAuthAllowedApplications string[] = []
@description('Tenant of the app registration that protects the API.')
param entraAuthTenantId string = tenant().tenantId

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION: the runtime
      // comes from functionAppConfig below. Every other name is one settings.ts, the host or Node reads.
      appSettings: [
        // Host storage by identity: blob only (host locks for the timers, keys, deployment package).
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // Entra ingestion: the component has local auth off, so the key in the connection string alone
        // is refused; the host authenticates with the identity named here.
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // The app's own settings (src/config/settings.ts).
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'STORAGE_TABLE_ENDPOINT'
          value: storage.properties.primaryEndpoints.table
        }
        {
          // The request queue, identity-based, in the form the host's queue trigger reads for its
          // QUEUE_STORAGE connection; the app's own sender reads the endpoint with AZURE_CLIENT_ID.
          name: 'QUEUE_STORAGE__queueServiceUri'
          value: storage.properties.primaryEndpoints.queue
        }
        {
          name: 'QUEUE_STORAGE__credential'
          value: 'managedidentity'
        }
        {
          name: 'QUEUE_STORAGE__clientId'
          value: identityClientId
        }
        {
          name: 'SNAPSHOT_REQUEST_QUEUE'
          value: snapshotRequestQueueName
        }
        {
          name: 'USAGE_EXPORT_QUEUE'
          value: usageExportQueueName
        }
        {
          name: 'USAGE_EXPORT_SCHEDULE'
          value: usageExportSchedule
        }
        {
          name: 'USAGE_EXPORT_POLL_SCHEDULE'
          value: usageExportPollSchedule
        }
        {
          name: 'TABLE_NAME_PREFIX'
          value: tableNamePrefix
        }
        {
          name: 'KEY_VAULT_URI'
          value: keyVaultUri
        }
        {
          name: 'PARTNER_CENTER_CLIENT_SECRET_NAME'
          value: partnerCenterClientSecretName
        }
        {
          name: 'PARTNER_CENTER_REFRESH_TOKEN_NAME'
          value: partnerCenterRefreshTokenName
        }
        {
          name: 'PARTNER_CENTER_TENANT_ID'
          value: partnerCenterTenantId
        }
        {
          name: 'PARTNER_CENTER_CLIENT_ID'
          value: partnerCenterClientId
        }
        {
          name: 'PARTNER_CENTER_BASE_URL'
          value: partnerCenterBaseUrl
        }
        {
          name: 'PARTNER_CENTER_AUTHORITY_HOST'
          value: partnerCenterAuthorityHost
        }
        {
          name: 'SNAPSHOT_SCHEDULE'
          value: snapshotSchedule
        }
        {
          name: 'SNAPSHOT_RESUME_SCHEDULE'
          value: snapshotResumeSchedule
        }
        {
          name: 'RETENTION_SCHEDULE'
          value: retentionSchedule
        }
        {
          name: 'STALE_AFTER_MINUTES'
          value: staleAfterMinutes
        }
        // V8's heap, bounded: with no limit V8 sizes the heap from the machine and lets garbage
        // grow to several times the live data before collecting. The usage export's bench runs its
        // workers with these same options (read from this file) and measures their peak RSS.
        {
          name: 'NODE_OPTIONS'
          value: trim(loadTextContent('node-options.txt'))
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No FTP, and no basic-auth publishing on SCM either: azd deploys with the operator's Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// Optional Entra ID in front of the API (App Service authentication). Function keys still apply
// behind it; /api/health stays open for probes.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (enableEntraAuth) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/health'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraAuthClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${entraAuthTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${entraAuthClientId}'
            entraAuthClientId
          ]
          // Any app in the tenant can get a token for this audience; only these callers are let in.
          defaultAuthorizationPolicy: {
            allowedApplications: entraAuthAllowedApplications
          }
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'

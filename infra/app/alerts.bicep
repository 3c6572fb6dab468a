// One log alert on Application Insights: it fires when the app reports a failed snapshot run or a
// refresh token Entra rejected. The app logs these exact names (as a trace message token, e.g.
// context.error('SnapshotRunFailed', ...), or as a custom event); test/infra checks both are here.
param name string
param actionGroupName string
param location string = resourceGroup().location
param tags object = {}
param applicationInsightsName string

@description('Who is notified. Empty: no action group, the alert only shows in the portal.')
param alertEmailAddress string = ''

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One row per reported event, named in EventName so each kind alerts (and resolves) separately.
var query = '''
let alertEvents = dynamic(['SnapshotRunFailed', 'RefreshTokenRejected']);
union isfuzzy=true
    (traces
    | where message has_any (alertEvents)
    | extend EventName = extract(@'\b(SnapshotRunFailed|RefreshTokenRejected)\b', 1, message)),
    (customEvents
    | where name in (alertEvents)
    | extend EventName = name)
| where isnotempty(EventName)
| project timestamp, EventName, message, operation_Id, cloud_RoleInstance
'''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddress)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'usagecache'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

resource snapshotAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: name
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Partner usage snapshot failed or refresh token rejected'
    description: 'A snapshot run failed (SnapshotRunFailed) or Entra rejected the Partner Center refresh token (RefreshTokenRejected). A rejected token stops every snapshot until an operator repeats the consent and stores a new token (docs/deploy.md).'
    severity: 1
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    // Each event falls in two 30-minute windows, so ingestion delay cannot hide it; muting for the
    // window length keeps that to one notification.
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    muteActionsDuration: 'PT30M'
    autoMitigate: false
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: query
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'EventName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertEmailAddress) ? [] : [
        actionGroup.id
      ]
    }
  }
}

output alertRuleName string = snapshotAlert.name

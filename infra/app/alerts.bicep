// Log alerts on Application Insights, one per way the cache can silently stop being true. The event
// names are the ones the app logs as `event=<name> {...}` trace lines (src/observability/logger.ts);
// host.json keeps traces out of sampling so none of them is dropped before an alert reads it.
// test/infra/alerts.test.ts checks every name and table these queries read against the code.
@description('Each alert rule is named <namePrefix><kind>-<nameSuffix>.')
param namePrefix string
param nameSuffix string
param actionGroupName string
param location string = resourceGroup().location
param tags object = {}
param applicationInsightsName string

@description('Who is notified. Empty: no action group, the alerts only show in the portal.')
param alertEmailAddress string = ''

@minValue(1)
@maxValue(2880)
@description('Minutes without a successful snapshot run after which the stale-data alert fires.')
param staleAfterMinutes int

@description('The timer functions the app registers; a failed invocation of any of them alerts.')
param timerFunctions string[] = [
  'snapshotTimer'
  'snapshotResumeTimer'
  'retentionTimer'
  'usageExportTimer'
  'usageExportPollTimer'
]

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

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

var actionGroups = empty(alertEmailAddress) ? [] : [actionGroup.id]

// Alerts on a logged event: one row per event, named in EventName so each kind fires (and is muted)
// separately. The app writes every event as a trace line starting with `event=<name>`.
var eventAlerts = [
  {
    kind: 'snapshot-failed'
    severity: 1
    events: ['SnapshotRunFailed', 'RefreshTokenRejected']
    displayName: 'Partner usage snapshot failed or refresh token rejected'
    description: 'A snapshot run failed (SnapshotRunFailed) or Entra rejected the Partner Center refresh token (RefreshTokenRejected). A rejected token stops every snapshot until an operator repeats the consent and stores a new token (docs/deploy.md).'
  }
  {
    kind: 'token-not-stored'
    severity: 0
    events: ['RefreshTokenPersistFailed']
    displayName: 'Rotated Partner Center refresh token was not stored'
    description: 'Entra rotated the refresh token but writing the new version to Key Vault failed (RefreshTokenPersistFailed). The token lives only in the running instance: when it scales to zero it is lost for good, and the next run fails until an operator repeats the consent (docs/deploy.md).'
  }
]

resource eventAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in eventAlerts: {
    name: '${namePrefix}${alert.kind}-${nameSuffix}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
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
      criteria: {
        allOf: [
          {
            query: 'let alertEvents = dynamic(${string(alert.events)});\ntraces\n| where message startswith "event="\n| extend EventName = extract(@"^event=(\\w+)", 1, message)\n| where EventName in (alertEvents)\n| project timestamp, EventName, message, operation_Id, cloud_RoleInstance\n'
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
        actionGroups: actionGroups
      }
    }
  }
]

// The Functions host records every invocation as a request; a timer whose handler threw is one with
// success == false. Requests are excluded from sampling in host.json.
resource timerFailedAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}timer-failed-${nameSuffix}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Partner usage timer invocation failed'
    description: 'A timer function (${join(timerFunctions, ', ')}) threw instead of finishing. Its exception is in Application Insights under the same operation id.'
    severity: 1
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    muteActionsDuration: 'PT30M'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: 'let timers = dynamic(${string(timerFunctions)});\nrequests\n| where success == false\n| where name in (timers)\n| project timestamp, FunctionName = name, resultCode, operation_Id, cloud_RoleInstance\n'
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'FunctionName'
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
      actionGroups: actionGroups
    }
  }
}

// No success for longer than the stale threshold: counts successful runs over that span and fires on
// zero, which also covers timers that stopped firing at all. Stateful (auto-mitigated): it notifies
// once, and resolves with the next successful run. A log alert looks back two days at most, which
// bounds staleAfterMinutes.
resource staleAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}stale-${nameSuffix}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Partner usage data is stale'
    description: 'No snapshot run has succeeded (SnapshotRunSucceeded) for ${staleAfterMinutes} minutes, the STALE_AFTER_MINUTES after which the API marks data stale.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'P2D'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'traces\n| where timestamp > ago(${staleAfterMinutes}m)\n| where message startswith "event=SnapshotRunSucceeded"\n| project timestamp, message, operation_Id\n'
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actionGroups
    }
  }
}

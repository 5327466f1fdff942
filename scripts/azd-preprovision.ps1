# azd preprovision hook (azure.yaml), for Windows (PowerShell 7, pwsh); scripts/azd-preprovision.sh does the same for
# POSIX shells and says why. azd runs it before every `azd provision` and `azd up`, with the azd environment's values
# as environment variables.
#
# 1. SKIPTOKEN_KEY: made once, kept in the azd environment (CI: the repository secret SKIPTOKEN_KEY).
# 2. The Microsoft.Web and Microsoft.App resource providers, registered through Azure Resource Manager with azd's own
#    sign-in (`azd auth token`). The same by hand: az provider register --namespace Microsoft.App (and Microsoft.Web).
$ErrorActionPreference = 'Stop'
# `azd env get-value` exits non-zero for a key not yet set: an answer here, not an error to stop on.
$PSNativeCommandUseErrorActionPreference = $false

$Arm = 'https://management.azure.com'
$ApiVersion = '2021-04-01'
$Providers = @('Microsoft.Web', 'Microsoft.App')

# --- 1. SKIPTOKEN_KEY --------------------------------------------------------------------------------------------
$stored = (& azd env get-value SKIPTOKEN_KEY 2>$null)
if ($LASTEXITCODE -eq 0 -and $stored) {
    Write-Host "SKIPTOKEN_KEY: the azd environment's, unchanged."
} elseif ($env:SKIPTOKEN_KEY) {
    # Kept in the azd environment too: a later provision without the variable must not make another key.
    if ($env:GITHUB_ACTIONS -ne 'true' -and -not $env:TF_BUILD) {
        & azd env set SKIPTOKEN_KEY $env:SKIPTOKEN_KEY | Out-Null
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    Write-Host 'SKIPTOKEN_KEY: from the process environment (a CI secret, or yours: kept in the azd environment).'
} elseif ($env:GITHUB_ACTIONS -eq 'true' -or $env:TF_BUILD) {
    # A key made here would live as long as this runner: every deployment would end the links handed out before it.
    Write-Error ('SKIPTOKEN_KEY is not set: set the repository secret (azd pipeline config copies it from your azd ' +
        'environment, or: gh secret set SKIPTOKEN_KEY) and pass it to azd (.github/workflows/azure-deploy.yml).')
    exit 1
} else {
    $bytes = [byte[]]::new(32)
    [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    $key = [System.Convert]::ToHexString($bytes).ToLowerInvariant()
    & azd env set SKIPTOKEN_KEY $key | Out-Null
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    Write-Host 'SKIPTOKEN_KEY: made once and kept in the azd environment.'
}
$global:LASTEXITCODE = 0

# --- 2. Resource providers ---------------------------------------------------------------------------------------
$subscription = $env:AZURE_SUBSCRIPTION_ID
if (-not $subscription) {
    Write-Warning ('Resource providers: AZURE_SUBSCRIPTION_ID is not set yet, not checked (azd up sets it first). ' +
        'By hand: az provider register --namespace Microsoft.App')
    exit 0
}

$token = (& azd auth token --output json | ConvertFrom-Json).token
if (-not $token) {
    Write-Error "Resource providers: no token from 'azd auth token' (azd auth login first)."
    exit 1
}
$headers = @{ Authorization = "Bearer $token" }

function Get-ProviderState([string] $namespace) {
    $uri = "$Arm/subscriptions/$subscription/providers/$($namespace)?api-version=$ApiVersion"
    return (Invoke-RestMethod -Method Get -Uri $uri -Headers $headers).registrationState
}

$tries = if ($env:REGISTER_WAIT_TRIES) { [int] $env:REGISTER_WAIT_TRIES } else { 60 }
$seconds = if ($env:REGISTER_WAIT_SECONDS) { [int] $env:REGISTER_WAIT_SECONDS } else { 5 }
foreach ($namespace in $Providers) {
    if ((Get-ProviderState $namespace) -eq 'Registered') {
        Write-Host "Resource provider ${namespace}: registered."
        continue
    }
    Write-Host "Resource provider ${namespace}: registering..."
    $uri = "$Arm/subscriptions/$subscription/providers/$namespace/register?api-version=$ApiVersion"
    Invoke-RestMethod -Method Post -Uri $uri -Headers $headers | Out-Null
    $tried = 0
    while ((Get-ProviderState $namespace) -ne 'Registered') {
        $tried++
        if ($tried -ge $tries) {
            Write-Error "Resource provider ${namespace}: still not registered; see: az provider show -n $namespace"
            exit 1
        }
        Start-Sleep -Seconds $seconds
    }
    Write-Host "Resource provider ${namespace}: registered."
}
exit 0

#!/bin/sh
# azd preprovision hook (azure.yaml), for POSIX shells; scripts/azd-preprovision.ps1 does the same on Windows (pwsh).
# azd runs it before every `azd provision` and `azd up`, with the azd environment's values as environment variables.
#
# 1. SKIPTOKEN_KEY, the key that signs $skiptokens (the @odata.nextLinks handed out), must stay the same from one
#    deployment to the next. It is made once and kept in the azd environment (.azure/<env>/.env);
#    infra/main.parameters.json passes it to the Bicep. In CI it comes from the repository secret SKIPTOKEN_KEY, which
#    `azd pipeline config` copies from the azd environment (azure.yaml, pipeline.secrets).
# 2. Flex Consumption needs the Microsoft.Web and Microsoft.App resource providers registered on the subscription (its
#    VNet integration delegates a subnet to Microsoft.App/environments). They are registered through Azure Resource
#    Manager with azd's own sign-in (`azd auth token`): no Azure CLI login is needed, locally or in CI. The same by
#    hand: az provider register --namespace Microsoft.App (and Microsoft.Web).
set -eu

ARM=https://management.azure.com
API_VERSION=2021-04-01
PROVIDERS="Microsoft.Web Microsoft.App"

# --- 1. SKIPTOKEN_KEY --------------------------------------------------------------------------------------------
stored=$(azd env get-value SKIPTOKEN_KEY 2>/dev/null || true)
if [ -n "$stored" ]; then
    echo "SKIPTOKEN_KEY: the azd environment's, unchanged."
elif [ -n "${SKIPTOKEN_KEY:-}" ]; then
    # Kept in the azd environment too: a later provision without the variable must not make another key.
    if [ "${GITHUB_ACTIONS:-}" != "true" ] && [ -z "${TF_BUILD:-}" ]; then
        azd env set SKIPTOKEN_KEY "$SKIPTOKEN_KEY" >/dev/null
    fi
    echo "SKIPTOKEN_KEY: from the process environment (a CI secret, or yours: kept in the azd environment)."
elif [ "${GITHUB_ACTIONS:-}" = "true" ] || [ -n "${TF_BUILD:-}" ]; then
    # A key made here would live as long as this runner: every deployment would end the links handed out before it.
    echo "SKIPTOKEN_KEY is not set: set the repository secret (azd pipeline config copies it from your azd" \
        "environment, or: gh secret set SKIPTOKEN_KEY) and pass it to azd (.github/workflows/azure-deploy.yml)." >&2
    exit 1
else
    key=$(od -A n -t x1 -N 32 /dev/urandom | tr -d ' \n')
    azd env set SKIPTOKEN_KEY "$key" >/dev/null
    echo "SKIPTOKEN_KEY: made once and kept in the azd environment."
fi

# --- 2. Resource providers ---------------------------------------------------------------------------------------
subscription=${AZURE_SUBSCRIPTION_ID:-}
if [ -z "$subscription" ]; then
    echo "Resource providers: AZURE_SUBSCRIPTION_ID is not set yet, not checked (azd up sets it first). By hand:" \
        "az provider register --namespace Microsoft.App" >&2
    exit 0
fi

token=$(azd auth token --output json | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
    echo "Resource providers: no token from 'azd auth token' (azd auth login first)." >&2
    exit 1
fi

# The token goes to curl on its standard input, not on its command line.
provider_url() { echo "$ARM/subscriptions/$subscription/providers/$1?api-version=$API_VERSION"; }

state() { # state NAMESPACE: its registrationState
    printf 'Authorization: Bearer %s\n' "$token" | curl -fsS -H @- "$(provider_url "$1")" |
        tr -d '\n' | sed -n 's/.*"registrationState": *"\([^"]*\)".*/\1/p'
}

register() { # register NAMESPACE
    printf 'Authorization: Bearer %s\n' "$token" | curl -fsS -X POST -H @- --data-binary '' "$(provider_url "$1/register")" >/dev/null
}

for namespace in $PROVIDERS; do
    if [ "$(state "$namespace")" = "Registered" ]; then
        echo "Resource provider $namespace: registered."
        continue
    fi
    echo "Resource provider $namespace: registering..."
    register "$namespace"
    tries=0
    while [ "$(state "$namespace")" != "Registered" ]; do
        tries=$((tries + 1))
        if [ "$tries" -ge "${REGISTER_WAIT_TRIES:-60}" ]; then
            echo "Resource provider $namespace: still not registered; see: az provider show -n $namespace" >&2
            exit 1
        fi
        sleep "${REGISTER_WAIT_SECONDS:-5}"
    done
    echo "Resource provider $namespace: registered."
done

#!/usr/bin/env bash
# Installs the Kiota CLI (the generator Microsoft builds the Graph SDKs with) into .tools/kiota from the NuGet dotnet
# tool Microsoft.OpenApi.Kiota. Idempotent: does nothing when .tools/kiota already is the pinned version.
# Exits 0 with a message when dotnet is missing; test/e2e/kiota.test.ts then fails and says why.
set -euo pipefail

KIOTA_VERSION="1.38.0"
PACKAGE_ID="Microsoft.OpenApi.Kiota"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tool_path="$repo_root/.tools/kiota"
target="$tool_path/kiota"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Kiota itself: no update check against GitHub and no telemetry (only NuGet is reachable from CI).
export KIOTA_OFFLINE_ENABLED=true KIOTA_CLI_TELEMETRY_OPTOUT=true

installed_version() {
    [[ -x "$target" ]] && "$target" --version 2>/dev/null | sed -n 's/^\([0-9][0-9.]*\).*/\1/p' | head -n 1
}

if [[ "$(installed_version || true)" == "$KIOTA_VERSION" ]]; then
    echo "install-kiota: .tools/kiota is already Kiota $KIOTA_VERSION"
    exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-kiota: dotnet not found; cannot restore the Kiota CLI from NuGet (the Kiota client test needs it: install the .NET SDK, or set KIOTA_CLI)"
    exit 0
fi

# Another version (or a broken install): start again, since `dotnet tool install` refuses to replace a tool.
rm -rf "$tool_path"
mkdir -p "$tool_path"
dotnet tool install --tool-path "$tool_path" "$PACKAGE_ID" --version "$KIOTA_VERSION" >/dev/null

if [[ "$(installed_version || true)" != "$KIOTA_VERSION" ]]; then
    echo "install-kiota: installed, but .tools/kiota/kiota does not report version $KIOTA_VERSION" >&2
    exit 1
fi
echo "install-kiota: installed Kiota $KIOTA_VERSION at .tools/kiota"

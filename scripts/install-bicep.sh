#!/usr/bin/env bash
# Installs the Bicep CLI into .tools/bicep from the NuGet package Azure.Bicep.CommandLine.linux-x64
# (no internet needed beyond NuGet). Idempotent: does nothing when .tools/bicep already is the pinned version.
# The infra tests run it themselves when no Bicep CLI is found (test/infra/arm.ts), two test files at once: a lock
# makes the second wait for the first. Exits 0 with a message when dotnet is missing; the infra tests then fail,
# quoting it.
set -euo pipefail

BICEP_VERSION="0.49.2"
PACKAGE_ID="azure.bicep.commandline.linux-x64"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$repo_root/infra/tools/bicep-cli.csproj"
target_dir="$repo_root/.tools"
target="$target_dir/bicep"

is_installed() {
    [[ -x "$target" ]] && "$target" --version 2>/dev/null | grep -q "version $BICEP_VERSION "
}

if is_installed; then
    echo "install-bicep: .tools/bicep is already Bicep CLI $BICEP_VERSION"
    exit 0
fi

# One install at a time (flock is part of util-linux); whoever waited finds it done.
mkdir -p "$target_dir"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$target_dir/.install-bicep.lock"
    flock 9
    if is_installed; then
        echo "install-bicep: .tools/bicep is already Bicep CLI $BICEP_VERSION (installed meanwhile)"
        exit 0
    fi
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
        echo "install-bicep: only linux-x64 is scripted here; install Bicep yourself and set BICEP_CLI (or put bicep on PATH)"
        exit 0
        ;;
esac

if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-bicep: dotnet not found; cannot restore the Bicep CLI from NuGet (the infra tests need it: install the .NET SDK, or set BICEP_CLI)"
    exit 0
fi

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet restore "$project" --verbosity quiet --nologo >/dev/null

# The global packages folder: NUGET_PACKAGES if set, else what dotnet reports (usually ~/.nuget/packages).
packages_dir="${NUGET_PACKAGES:-}"
if [[ -z "$packages_dir" ]]; then
    packages_dir="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
fi
source_bin="${packages_dir%/}/$PACKAGE_ID/$BICEP_VERSION/tools/bicep"
if [[ ! -f "$source_bin" ]]; then
    echo "install-bicep: restore finished but $source_bin is missing" >&2
    exit 1
fi

rm -f "$target"
# A hard link costs no space and survives a cleared NuGet cache; copy when across file systems.
ln "$source_bin" "$target" 2>/dev/null || cp "$source_bin" "$target"
chmod +x "$target"
echo "install-bicep: installed $("$target" --version) at .tools/bicep"

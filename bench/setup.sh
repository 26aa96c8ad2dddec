#!/usr/bin/env bash
# Installs the tools the side-by-side benchmark (issue #7) compares against, outside the repository, once:
#   npm 9.5.1: the newest npm whose `audit signatures` runs offline (npm >= 9.9 fetches Sigstore TUF metadata first
#              and fails after ~70 s without internet);
#   pnpm 12.21.0: a native binary from the npm registry.
# Re-running skips whatever is already installed. Nothing here is committed; the folder is
# $PROVENANCE_LENS_BENCH_TOOLS (default ~/.cache/provenance-lens-bench).
set -euo pipefail
TOOLS="${PROVENANCE_LENS_BENCH_TOOLS:-$HOME/.cache/provenance-lens-bench}"
mkdir -p "$TOOLS"

if [ -x "$TOOLS/npm-9.5.1/bin/npm" ] && [ "$("$TOOLS/npm-9.5.1/bin/npm" --version 2>/dev/null)" = "9.5.1" ]; then
  echo "npm 9.5.1: already in $TOOLS/npm-9.5.1"
else
  echo "npm 9.5.1: installing into $TOOLS/npm-9.5.1"
  npm install -g npm@9.5.1 --prefix "$TOOLS/npm-9.5.1" --no-audit --no-fund --loglevel=error
fi

PNPM="$TOOLS/pnpm-12.21.0/node_modules/.bin/pnpm"
if [ -x "$PNPM" ] && [ "$("$PNPM" --version 2>/dev/null)" = "12.21.0" ]; then
  echo "pnpm 12.21.0: already in $TOOLS/pnpm-12.21.0"
else
  echo "pnpm 12.21.0: installing into $TOOLS/pnpm-12.21.0"
  npm install --prefix "$TOOLS/pnpm-12.21.0" pnpm@12.21.0 --no-audit --no-fund --loglevel=error
fi

echo "npm: $("$TOOLS/npm-9.5.1/bin/npm" --version) ($TOOLS/npm-9.5.1/bin/npm)"
echo "pnpm: $("$PNPM" --version) ($PNPM)"

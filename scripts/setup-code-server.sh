#!/usr/bin/env bash
# Installs what the e2e suite (test/e2e) needs on Debian 12: chromium, libkrb5-dev, ripgrep from apt, and
# code-server 4.100.3 (VS Code 1.100, Node 20) from the npm registry into a cache folder outside the repo.
# Idempotent: each step leaves a stamp and is skipped when its stamp is there, so a warm run takes seconds.
# The recipe is the one of issue #4 "Tests in a real VS Code": code-server's own install scripts download
# from the internet, so they are skipped (--ignore-scripts) and the native modules are rebuilt from source.
#
#   scripts/setup-code-server.sh            # prints the code-server entry point on its last line
#   PROVENANCE_LENS_E2E_CACHE=/some/dir scripts/setup-code-server.sh
#
# Any failure (apt or the registry refusing a package) exits non-zero: CI must fail loudly, not skip e2e.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE="${PROVENANCE_LENS_E2E_CACHE:-$HOME/.cache/provenance-lens-e2e}"
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
CS="$PREFIX/node_modules/code-server"
VSCODE="$CS/lib/vscode"
STAMPS="$PREFIX/.stamps"
started=$(date +%s)

log() { printf 'setup-code-server: %s\n' "$*" >&2; }
done_step() { [[ -f "$STAMPS/$1" ]]; }
mark() { mkdir -p "$STAMPS" && date -u +%FT%TZ >"$STAMPS/$1"; }

# --- apt: only what is missing, and `apt-get update` at most once per run.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]} > 0)); then
  log "apt-get install ${missing[*]}"
  as_root=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install ${missing[*]}"; exit 1; }
    as_root=(sudo)
  fi
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -x /usr/bin/chromium ]] || { log "/usr/bin/chromium is missing after apt"; exit 1; }

mkdir -p "$PREFIX"
# A private package.json so the install lands in $PREFIX/node_modules and never touches the repo's tree.
[[ -f "$PREFIX/package.json" ]] || printf '{ "name": "provenance-lens-e2e-code-server", "private": true }\n' >"$PREFIX/package.json"

# Keep npm's config from the environment (registry, proxy, cafile) but never the repo's package scripts.
npm_q=(--no-audit --no-fund --loglevel=error)

if ! done_step code-server; then
  log "npm install --ignore-scripts code-server@$CODE_SERVER_VERSION"
  (cd "$PREFIX" && npm install "${npm_q[@]}" --ignore-scripts "code-server@$CODE_SERVER_VERSION")
  mark code-server
fi

if ! done_step vscode-deps; then
  log "lib/vscode: npm install --omit=dev --ignore-scripts"
  (cd "$VSCODE" && npm install "${npm_q[@]}" --omit=dev --ignore-scripts)
  mark vscode-deps
fi

if ! done_step ripgrep; then
  # @vscode/ripgrep's own postinstall downloads a binary from GitHub; Debian's rg does the same job.
  mkdir -p "$VSCODE/node_modules/@vscode/ripgrep/bin"
  cp /usr/bin/rg "$VSCODE/node_modules/@vscode/ripgrep/bin/rg"
  mark ripgrep
fi

if ! done_step native; then
  log "lib/vscode: npm rebuild kerberos node-pty @parcel/watcher @vscode/spdlog @vscode/deviceid"
  (cd "$VSCODE" && npm_config_yes=true npm rebuild "${npm_q[@]}" kerberos node-pty @parcel/watcher @vscode/spdlog @vscode/deviceid)
  mark native
fi

if ! done_step asar-link; then
  # code-server loads its modules through node_modules.asar in packaged builds.
  [[ -e "$VSCODE/node_modules.asar" ]] || ln -s node_modules "$VSCODE/node_modules.asar"
  mark asar-link
fi

if ! done_step builtin-extensions; then
  log "lib/vscode/extensions: npm install --omit=dev --ignore-scripts"
  (cd "$VSCODE/extensions" && npm install "${npm_q[@]}" --omit=dev --ignore-scripts)
  mark builtin-extensions
fi

if ! done_step argon2; then
  log "npm rebuild argon2"
  (cd "$PREFIX" && npm rebuild "${npm_q[@]}" argon2)
  mark argon2
fi

# A cheap check that the install works, every run: a half-finished cache must not pass as ready.
version=$(node "$CS/out/node/entry.js" --version 2>&1 | head -1 || true)
[[ "$version" == "$CODE_SERVER_VERSION"* ]] || { log "code-server --version said '$version', expected $CODE_SERVER_VERSION; remove $PREFIX and retry"; exit 1; }

log "ready in $(($(date +%s) - started)) s: code-server $version, $(chromium --version 2>/dev/null || echo chromium)"
echo "$CS/out/node/entry.js"

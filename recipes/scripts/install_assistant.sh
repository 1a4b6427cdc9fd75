#!/bin/bash
# Installs the AI coding assistant (Claude Code) on an employee's Lighthouse
# server and registers the CloudBase MCP server, pointed at the employee's own
# CloudBase environment, in the assistant's user configuration of the
# server's login user (ubuntu, lighthouse, debian or root).
#
# Run as root through TAT by onboard.lua, which fills in the values below,
# each shell-quoted, so a value is always one word whatever it holds (the
# login user is optional; without it the script detects one).
# Installs Node.js 20 LTS from NodeSource when node is missing or older than
# 18 (apt on Ubuntu/Debian, dnf/yum on RHEL-family images).
# Idempotent: running it again leaves the same installation.  No secrets:
# the employee signs in to the assistant themselves.
set -euo pipefail
set -o errtrace

TCB_ENV_ID=__TCB_ENV_ID__
TCB_REGION=__TCB_REGION__
OWNER=__OWNER__
LOGIN_USER=__LOGIN_USER__

NODE_MAJOR=20
MCP_NAME=cloudbase
MCP_PACKAGE=@cloudbase/cloudbase-mcp@latest
ASSISTANT_PACKAGE=@anthropic-ai/claude-code

log() { printf '[install-assistant] %s\n' "$*"; }
die() { log "error: $*"; exit 1; }
trap 'log "error: exit $? at line $LINENO: $BASH_COMMAND"' ERR

# A value onboard.lua did not fill in still looks like __NAME__.
unfilled() { case $1 in '' | __*__) return 0 ;; esac; return 1; }

unfilled "$TCB_ENV_ID" && die "CloudBase environment id not filled in"
unfilled "$TCB_REGION" && die "CloudBase region not filled in"
[[ $TCB_ENV_ID =~ ^[A-Za-z0-9_-]+$ ]] || die "bad CloudBase environment id: $TCB_ENV_ID"
[[ $TCB_REGION =~ ^[a-z0-9-]+$ ]] || die "bad CloudBase region: $TCB_REGION"
unfilled "$OWNER" && OWNER=unknown
[ "$(id -u)" -eq 0 ] || die "must run as root"

# --- the login user the assistant is configured for -----------------------
if unfilled "$LOGIN_USER"; then
	LOGIN_USER=
elif ! getent passwd "$LOGIN_USER" >/dev/null; then
	log "login user $LOGIN_USER does not exist here; detecting one"
	LOGIN_USER=
fi
if [ -z "$LOGIN_USER" ]; then
	LOGIN_USER=root
	for u in ubuntu lighthouse debian; do
		if getent passwd "$u" >/dev/null; then
			LOGIN_USER=$u
			break
		fi
	done
fi
USER_HOME=$(getent passwd "$LOGIN_USER" | cut -d: -f6)
if [ -z "$USER_HOME" ] || [ ! -d "$USER_HOME" ]; then
	die "home of $LOGIN_USER not found"
fi
log "configuring for login user $LOGIN_USER ($USER_HOME)"

# --- Node.js 18+ -------------------------------------------------------------
# Major version of the node on PATH, 0 when there is none or it does not run.
node_major() {
	local v
	v=$(node --version 2>/dev/null) || v=
	v=${v#v}
	v=${v%%.*}
	if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; else echo 0; fi
}

install_node_apt() {
	local apt=(apt-get -y -qq -o DPkg::Lock::Timeout=600) old ver
	export DEBIAN_FRONTEND=noninteractive
	"${apt[@]}" update
	"${apt[@]}" install ca-certificates curl gnupg
	# The distribution's node (12 on Ubuntu 22.04) and its libnode/npm
	# packages clash with NodeSource's nodejs; remove them first.
	old=$({ dpkg-query -W -f='${Status} ${Package}\n' nodejs npm nodejs-doc \
		'libnode*' 2>/dev/null || true; } | awk '$3 == "installed" { printf "%s ", $4 }')
	ver=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null) || ver=
	if [ -n "$old" ] && [[ $ver != *nodesource* ]]; then
		log "removing the distribution's Node.js: $old"
		# shellcheck disable=SC2086 # a list of package names
		"${apt[@]}" purge $old
	fi
	install -d -m 0755 /etc/apt/keyrings
	curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
		| gpg --batch --yes --dearmor -o /etc/apt/keyrings/nodesource.gpg
	chmod 0644 /etc/apt/keyrings/nodesource.gpg
	echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" \
		>/etc/apt/sources.list.d/nodesource.list
	printf 'Package: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n' \
		>/etc/apt/preferences.d/nodejs
	"${apt[@]}" update
	"${apt[@]}" install nodejs
}

install_node_rpm() {
	local pm=$1 arch ver
	arch=$(uname -m)
	case $arch in
	x86_64 | aarch64) ;;
	*) die "no NodeSource Node.js packages for $arch" ;;
	esac
	ver=$(rpm -q nodejs 2>/dev/null) || ver=
	if [ -n "$ver" ] && [[ $ver != *nodesource* ]]; then
		log "removing the distribution's Node.js"
		"$pm" remove -y nodejs npm || true
	fi
	cat >/etc/yum.repos.d/nodesource-nodejs.repo <<REPO
[nodesource-nodejs]
name=Node.js Packages for Linux RPM based distros - $arch
baseurl=https://rpm.nodesource.com/pub_${NODE_MAJOR}.x/nodistro/nodejs/$arch
priority=9
enabled=1
gpgcheck=1
gpgkey=https://rpm.nodesource.com/gpgkey/ns-operations-public.key
module_hotfixes=1
REPO
	"$pm" install -y nodejs
}

have=$(node_major)
if [ "$have" -ge 18 ]; then
	log "Node.js $(node --version) already installed"
else
	if [ "$have" -eq 0 ]; then
		log "installing Node.js $NODE_MAJOR LTS (no node found)"
	else
		log "installing Node.js $NODE_MAJOR LTS (found $(node --version), need 18+)"
	fi
	if command -v apt-get >/dev/null 2>&1; then
		install_node_apt
	elif command -v dnf >/dev/null 2>&1; then
		install_node_rpm dnf
	elif command -v yum >/dev/null 2>&1; then
		install_node_rpm yum
	else
		die "unsupported system: neither apt-get nor dnf/yum found; install Node.js 18+ by hand"
	fi
	hash -r
	have=$(node_major)
	[ "$have" -ge 18 ] || die "Node.js 18+ still not available (node: $(command -v node || echo none), major $have); this image may be too old for Node.js $NODE_MAJOR"
	log "Node.js $(node --version) installed"
fi

# --- the assistant -----------------------------------------------------------
log "installing $ASSISTANT_PACKAGE"
npm install -g --no-fund --no-audit --loglevel=error "$ASSISTANT_PACKAGE"
hash -r
CLAUDE=$(command -v claude) || die "claude not on PATH after npm install -g"
log "assistant $("$CLAUDE" --version 2>/dev/null | head -n 1 || true) at $CLAUDE"

# Runs a command as the login user, with that user's HOME.
as_user() {
	if command -v sudo >/dev/null 2>&1; then
		sudo -u "$LOGIN_USER" -H -- "$@"
	else
		runuser -u "$LOGIN_USER" -- env HOME="$USER_HOME" "$@"
	fi
}

# --- the CloudBase MCP server, in the user's assistant configuration -------
cd "$USER_HOME"
log "registering MCP server $MCP_NAME: environment $TCB_ENV_ID ($TCB_REGION)"
as_user "$CLAUDE" mcp remove --scope user "$MCP_NAME" >/dev/null 2>&1 || true
as_user "$CLAUDE" mcp add --scope user "$MCP_NAME" \
	-e "CLOUDBASE_ENV_ID=$TCB_ENV_ID" -e "TENCENTCLOUD_REGION=$TCB_REGION" \
	-- npx -y "$MCP_PACKAGE"

log "ready: environment $TCB_ENV_ID ($TCB_REGION) for $OWNER; sign in by running claude as $LOGIN_USER"

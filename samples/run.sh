#!/bin/sh
# `make run`: the main job end to end, on this machine only.  Starts a
# fresh local sandbox (tests/sandbox/tcsandbox) on a free loopback port,
# onboards samples/roster.csv against it, prints the summary, stops it.
# Everything it writes goes to tcrun-out/demo/.
# `make run-multi` (run.sh multi): the same with one account per
# environment (samples/multi/accounts.lua), the sandbox's hub being an
# Organization's management account: setup_accounts.lua creates the four
# member accounts, then onboarding and verify_isolation.lua; into
# tcrun-out/demo-multi/.
set -eu
umask 077
cd "$(dirname "$0")/.."
mode=${1:-one}
out=tcrun-out/demo
[ "$mode" = multi ] && out=tcrun-out/demo-multi
rm -rf "$out"
mkdir -p "$out"
# The sandbox's documented root key pair (tests/sandbox/README.md), given
# to it so that it does not print it into its log.
export TENCENTCLOUD_SECRET_ID=AKIDtcsandboxROOT0000000000000000000
export TENCENTCLOUD_SECRET_KEY=tcsandboxRootSecretKey0000000000
org=
[ "$mode" = multi ] && org=--organization
python3 tests/sandbox/tcsandbox --port 0 --async-delay-ms 500 $org \
	--state "$out/sandbox-state.json" >"$out/sandbox.out" 2>"$out/sandbox.log" &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM HUP PIPE
i=0
until grep -q 'listening on' "$out/sandbox.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $sandbox 2>/dev/null; then
		echo "run: the sandbox did not start; see $out/sandbox.log" >&2
		exit 1
	fi
	sleep 0.1
done
url=$(awk '{print $NF}' "$out/sandbox.out")
echo "sandbox: $url (state in $out/sandbox-state.json)"
export TCRUN_JOURNAL_DIR="$out/journal" TCRUN_STATE_DIR="$out/state"
if [ "$mode" = multi ]; then
	./tcrun --endpoint "$url" --config samples/multi setup_accounts.lua --out "$out"
	./tcrun --endpoint "$url" --config samples/multi onboard.lua samples/roster.csv --out "$out"
	./tcrun --endpoint "$url" --config samples/multi verify_isolation.lua samples/roster.csv \
		--out "$out"
else
	./tcrun --endpoint "$url" onboard.lua samples/roster.csv --out "$out"
fi
echo "reports, passwords (mode 0600) and the write journal are in $out/"

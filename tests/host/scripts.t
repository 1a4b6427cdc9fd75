#!/bin/sh
# The shell scripts recipes run on servers (recipes/scripts/*.sh) parse with
# bash -n, both as written and with onboard.lua's values filled in.
cd "$(dirname "$0")/../.." || exit 1
n=1
failed=0
if [ -f recipes/scripts/install_assistant.sh ]; then
	echo "ok 1 - the assistant installer onboard.lua runs is there"
else
	failed=1
	echo "not ok 1 - recipes/scripts/install_assistant.sh is missing"
fi
for f in recipes/scripts/*.sh; do
	n=$((n + 1))
	if bash -n "$f" 2>/tmp/tcrun-bash-n.$$; then
		echo "ok $n - bash -n $f"
	else
		failed=1
		echo "not ok $n - bash -n $f"
		sed 's/^/#   /' /tmp/tcrun-bash-n.$$
	fi
	n=$((n + 1))
	if sed -e 's/__TCB_ENV_ID__/alice-wang-x1y2z3/' -e 's/__TCB_REGION__/ap-shanghai/' \
	       -e 's/__OWNER__/alice.wang/' "$f" | bash -n 2>/tmp/tcrun-bash-n.$$; then
		echo "ok $n - bash -n $f with values filled in"
	else
		failed=1
		echo "not ok $n - bash -n $f with values filled in"
		sed 's/^/#   /' /tmp/tcrun-bash-n.$$
	fi
done
rm -f /tmp/tcrun-bash-n.$$
echo "1..$n"
exit $failed

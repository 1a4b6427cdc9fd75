#!/bin/sh
# The shell scripts recipes run on servers (recipes/scripts/*.sh) parse with
# bash -n, both as written and with onboard.lua's values filled in, and
# every __PLACEHOLDER__ a script holds (outside comments) is one
# lua/tcrun/onboarding.lua fills, and the other way round.
cd "$(dirname "$0")/../.." || exit 1
n=1
failed=0
if [ -f recipes/scripts/install_assistant.sh ]; then
	echo "ok 1 - the assistant installer onboard.lua runs is there"
else
	failed=1
	echo "not ok 1 - recipes/scripts/install_assistant.sh is missing"
fi
filled=$(grep -o '__[A-Z][A-Z_]*__' lua/tcrun/onboarding.lua | sort -u)
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
	held=$(grep -v '^[[:space:]]*#' "$f" | grep -o '__[A-Z_]*__' | sort -u)
	if [ -n "$held" ] && [ "$held" = "$filled" ]; then
		echo "ok $n - $f holds exactly the placeholders onboarding fills:" $held
	else
		failed=1
		echo "not ok $n - $f placeholders differ from what onboarding fills"
		echo "#   script: $held" | tr '\n' ' '; echo
		echo "#   filled: $filled" | tr '\n' ' '; echo
	fi
	n=$((n + 1))
	filled_in=$(sed -e "s/__TCB_ENV_ID__/'alice-wang-x1y2z3'/" -e "s/__TCB_REGION__/'ap-shanghai'/" \
	       -e "s/__OWNER__/'alice.wang'/" -e "s/__LOGIN_USER__/'ubuntu'/" "$f")
	if printf '%s\n' "$filled_in" | bash -n 2>/tmp/tcrun-bash-n.$$ &&
	   ! printf '%s\n' "$filled_in" | grep -v '^[[:space:]]*#' | grep -q '__[A-Z_]*__'; then
		echo "ok $n - bash -n $f with every value filled in"
	else
		failed=1
		echo "not ok $n - bash -n $f with every value filled in"
		sed 's/^/#   /' /tmp/tcrun-bash-n.$$
	fi
done
rm -f /tmp/tcrun-bash-n.$$
echo "1..$n"
exit $failed

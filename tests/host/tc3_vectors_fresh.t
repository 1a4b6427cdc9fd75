#!/bin/sh
# The committed signer vectors are exactly what the installed official Node
# SDK produces today, so test_tc3 compares against the SDK, not a stale copy.
cd "$(dirname "$0")/../.." || exit 1
echo "1..1"
if node tests/tools/gen_tc3_vectors.js | cmp -s - tests/data/tc3_vectors.json; then
	echo "ok 1 - tests/data/tc3_vectors.json matches the Node SDK's output"
else
	echo "not ok 1 - tests/data/tc3_vectors.json differs from the Node SDK's output"
	echo "# regenerate: node tests/tools/gen_tc3_vectors.js > tests/data/tc3_vectors.json"
fi

#!/bin/sh
# The fuzz targets over their committed corpora (tests/fuzz/corpus/NAME/),
# built by `make test` under ASan/UBSan (build/fuzz/NAME): every input the
# fuzzers kept, and every input that once failed, checked on every run.
# A failed property or a sanitizer report fails the target's test.
cd "$(dirname "$0")/../.." || exit 1
n=0
failed=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	n=$((n + 1))
	bin=build/fuzz/$name
	corpus=tests/fuzz/corpus/$name
	if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
		failed=1
		echo "not ok $n - $name: $bin or $corpus is missing (make test builds it)"
		continue
	fi
	count=$(ls "$corpus" | wc -l)
	if [ "$count" -eq 0 ]; then
		failed=1
		echo "not ok $n - $name: $corpus is empty (seeds go there)"
		continue
	fi
	if out=$(TMPDIR=${TMPDIR:-/tmp} "$bin" "$corpus" 2>&1); then
		echo "ok $n - $name over its corpus: $out"
	else
		failed=1
		echo "not ok $n - $name over its corpus ($count inputs)"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	fi
done
echo "1..$n"
exit $failed

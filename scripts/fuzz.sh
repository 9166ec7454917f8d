#!/usr/bin/env bash
# Runs every fuzz target of the module for a short while (PVS_FUZZ_TIME,
# default 3s each) beyond its committed seed corpus, which plain `go test`
# already runs. A failing input is written to the package's testdata/fuzz/
# and the script fails: commit that input with the fix.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
t=${PVS_FUZZ_TIME:-3s}
n=0
start=$(date +%s)
while IFS=: read -r file name; do
  dir=./$(dirname "$file")
  ok=0
  for attempt in 1 2; do
    if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$dir" >/tmp/pvs-fuzz.$$ 2>&1; then ok=1; break; fi
    # Go's fuzzing coordinator may report "context deadline exceeded" when
    # its time runs out mid-run, with no failing input (go.dev/issue/75804,
    # fixed in Go 1.27): run that target again once.
    grep -q 'Failing input written' /tmp/pvs-fuzz.$$ && break
    grep -q 'context deadline exceeded' /tmp/pvs-fuzz.$$ || break
    echo "fuzz: $name stopped at its deadline without a failing input; again"
  done
  if [ $ok = 0 ]; then cat /tmp/pvs-fuzz.$$; rm -f /tmp/pvs-fuzz.$$; echo "fuzz: $name in $dir failed"; exit 1; fi
  n=$((n + 1))
done < <(grep -rho --include='*_test.go' -H '^func Fuzz[A-Za-z0-9_]*' cmd pkg internal | sed 's/func //' | sort)
rm -f /tmp/pvs-fuzz.$$
echo "fuzz: $n targets, $t each, passed in $(( $(date +%s) - start )) s"

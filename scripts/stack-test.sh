#!/usr/bin/env bash
# The stack test: starts Docker (installing Debian's docker.io if needed) with
# a single-node swarm, builds the images (scripts/images.sh, cached), and
# deploys stacks/base.yml, docker-compose.vhr18.yml, docker-compose.emg.yml
# and stacks/monitoring.yml as docs/operations.md says, checking what they
# serve (stacks/deploy_test.go). Stops the engine again if it started it.
# Exit 3 when Docker cannot be started here.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/env.sh
t0=$SECONDS
engine_was_up=0
docker info >/dev/null 2>&1 && engine_was_up=1
rc=0
bash scripts/docker.sh || rc=$?
if [ $rc -ne 0 ]; then exit $rc; fi
[ $engine_was_up = 1 ] || [ "${PVS_KEEP_DOCKER:-}" = 1 ] || trap 'bash scripts/docker.sh --stop' EXIT
bash scripts/images.sh
echo "stack-test: images ready after $((SECONDS - t0)) s"
mkdir -p "$PVS_RUN_DIR/log"
set +e
PVS_STACK_TEST=1 go test -count=1 -timeout 40m -run 'TestSwarmDeploy' -v ./stacks/ 2>&1 | tee "$PVS_RUN_DIR/log/stack-test.log" |
  grep -E '^(=== RUN|--- |\s+--- |PASS|FAIL|ok|\s+\S+_test.go)'
status=${PIPESTATUS[0]}
set -e
echo "stack-test: $( [ "$status" = 0 ] && echo passed || echo FAILED ) in $((SECONDS - t0)) s (log: $PVS_RUN_DIR/log/stack-test.log)"
exit "$status"

#!/usr/bin/env bash
# Run the whole non-soak test suite RUNS times (default 5) in a row while two CPU burners keep
# both cores busy, then print "N of RUNS passed". A test that depends on machine speed fails here.
#
#   scripts/stress_test.sh PYTHON [pytest args...]     (make stress-test does this on Airflow 3.3.2)
#
# The caller sets AIRFLOW_HOME (wiped before each run, as make test does) and may set
# PYTEST_FLAGS (interpreter flags, e.g. the -W error:: options). Exit status 0 only if all passed.
set -u -o pipefail

python=${1:?usage: stress_test.sh PYTHON [pytest args...]}
shift
runs=${RUNS:-5}
burners=()
suite=""

stop_burners() {
	for pid in $suite "${burners[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $suite "${burners[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	burners=()
	suite=""
}
# The burners (and a running suite) must die with this script, whatever ends it: success, a
# failure, Ctrl-C, kill. The suite runs in the background so that a signal is handled at once.
trap stop_burners EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2; do
	python3 -c 'while 1: pass' &
	burners+=("$!")
done
echo "stress: CPU burners running as PIDs ${burners[*]}; $runs runs of the non-soak suite"

passed=0
for run in $(seq 1 "$runs"); do
	rm -rf "${AIRFLOW_HOME:?set AIRFLOW_HOME}"
	started=$SECONDS
	# shellcheck disable=SC2086  # PYTEST_FLAGS is a list of interpreter options
	"$python" ${PYTEST_FLAGS:-} -m pytest -q -p no:cacheprovider -m "not soak" "$@" &
	suite=$!
	if wait "$suite"; then
		passed=$((passed + 1))
		echo "stress: run $run passed ($((SECONDS - started)) s)"
	else
		echo "stress: run $run FAILED ($((SECONDS - started)) s)"
	fi
	suite=""
done
stop_burners
echo "$passed of $runs passed"
[ "$passed" -eq "$runs" ]

#!/usr/bin/env bash
# The calendar matrix: runs the time-sensitive suites (booking, reminders, membership benefits,
# the waitlist, calendar feeds, memberships and payment retries, sign-in and sessions) on SQLite
# starting at many instants, so a test that quietly depends on the day or the hour it runs at
# fails here instead of on one weekday in CI.
#
#   ./scripts/calendar-matrix.sh            every instant below
#   ./scripts/calendar-matrix.sh 2026-12-08T09:30   one wall-clock time in the practice's zone
#
# Each instant is a wall-clock time in the demo practice's zone, turned into RFC 3339 by `date`
# (which knows the zone's daylight-saving rules) and handed to the tests as BEDSIDE_TEST_NOW.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export LEPTOS_OUTPUT_NAME=bedside
ZONE="America/New_York"

if [ "$#" -gt 0 ]; then
  LOCAL_TIMES=("$@")
else
  LOCAL_TIMES=()
  # Seven consecutive days (Monday to Sunday), each in the morning and in the evening.
  for day in 07 08 09 10 11 12 13; do
    LOCAL_TIMES+=("2026-12-${day}T09:30" "2026-12-${day}T21:30")
  done
  LOCAL_TIMES+=(
    "2027-03-14T01:30" # spring forward: 02:00 does not exist that night
    "2027-03-14T09:30"
    "2026-11-01T01:30" # fall back: 01:30 happens twice (the first, daylight time)
    "2026-11-01T09:30"
    "2027-04-30T21:30" # the last day of a month
    "2026-12-31T21:30" # the last day of a year
    "2028-02-29T09:30" # 29 February of a leap year
  )
fi

# The suites whose rules read the clock. Module paths of the API tests (server/tests/api) and of
# the app's unit tests.
API_SUITES=(appointments:: memberships:: billing:: auth::sign_in::)
UNIT_SUITES=(auth::session clock:: appointments:: memberships::)

# Built once; then the test programs themselves run at each instant (no cargo in between, so
# nothing is rebuilt halfway through). One package and feature set, as scripts/test.sh uses.
say "Calendar matrix: building the tests"
BUILT="$(cargo test -p bedside -p bedside-app --features bedside-app/ssr --lib --test api \
  --no-run --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')"
API_TESTS="$(grep '/api-' <<<"$BUILT")"
UNIT_TESTS="$(grep '/bedside_app-' <<<"$BUILT")"
[ -x "$API_TESTS" ] && [ -x "$UNIT_TESTS" ] || { echo "test programs not found in: $BUILT"; exit 1; }
# Copies, so that a build started meanwhile cannot swap them halfway through the matrix.
COPIES="$(mktemp -d)"
trap 'rm -rf "$COPIES"' EXIT
cp "$API_TESTS" "$COPIES/api" && API_TESTS="$COPIES/api"
cp "$UNIT_TESTS" "$COPIES/unit" && UNIT_TESTS="$COPIES/unit"

passed=0
failed=()
for local in "${LOCAL_TIMES[@]}"; do
  instant="$(TZ="$ZONE" date -d "${local/T/ }" --iso-8601=seconds)"
  say "Starting at $local in $ZONE ($instant)"
  log="$(mktemp)"
  if (cd app && env -u DATABASE_URL BEDSIDE_TEST_NOW="$instant" \
      "$UNIT_TESTS" -q "${UNIT_SUITES[@]}") >"$log" 2>&1 \
    && (cd server && env -u DATABASE_URL BEDSIDE_TEST_NOW="$instant" \
      "$API_TESTS" -q "${API_SUITES[@]}") >>"$log" 2>&1; then
    grep -E '^test result:' "$log" | sed 's/^/    /'
    passed=$((passed + 1))
  else
    cat "$log"
    failed+=("$local ($instant)")
  fi
  rm -f "$log"
done

echo
echo "Calendar matrix: ${passed} instants passed, ${#failed[@]} failed"
for f in "${failed[@]}"; do echo "    failed at $f"; done
[ "${#failed[@]}" -eq 0 ]

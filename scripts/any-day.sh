#!/usr/bin/env bash
# Run the test suite as if today were another day: no test may depend on today's date.
#
#   scripts/any-day.sh DATE [pytest args...]
#     DATE  2026-09-30 (that day, at the current time of day in Asia/Shanghai)
#           or 2026-09-30T17:45 (that day and time, Asia/Shanghai)
#
# The system clock is moved with libfaketime for the pytest
# process and every process it starts (the services, the gateway, the command line), as an
# offset from the real time, so all of them agree on "now" and time still runs. The servers
# (RabbitMQ, the MongoDB wire-protocol server) run on the real clock: scripts/infra.sh starts
# them before the clock is moved, and the tests start their private servers without the
# offset (tests/infra.py: server_env).
#
# Examples: scripts/any-day.sh 2026-02-13      # eve of Spring Festival, a working Saturday after
#           scripts/any-day.sh 2026-09-30 tests/unit -q
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: scripts/any-day.sh DATE[THH:MM] [pytest args...]" >&2
  exit 2
fi
target=$1
shift

# The libfaketime build of the PyPI package `libfaketime` (a development dependency, so
# `uv sync` installs it): Debian 12's libfaketime 0.9.10 breaks timed waits on the monotonic
# clock, which every Python program makes (time.sleep fails with EINVAL under
# FAKETIME_DONT_FAKE_MONOTONIC, and lock or event timeouts hang without it). It is a tool of
# the tests only, loaded into test processes; the product neither imports nor ships it.
uv sync --frozen --quiet
lib=$(uv run --frozen python -c 'import importlib.util, pathlib
spec = importlib.util.find_spec("libfaketime")
print(pathlib.Path(spec.submodule_search_locations[0], "vendor/libfaketime/src/libfaketime.so.1"))')
[[ -f "$lib" ]] || { echo "any-day.sh: $lib not found (uv sync installs the libfaketime package)" >&2; exit 1; }

# Offset in whole seconds from now to the target instant in Asia/Shanghai.
offset=$(python3 - "$target" <<'EOF'
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

china = ZoneInfo("Asia/Shanghai")
text = sys.argv[1]
now = datetime.now(china)
try:
    if "T" in text:
        when = datetime.fromisoformat(text).replace(tzinfo=china)
    else:
        day = datetime.fromisoformat(text).date()
        when = datetime.combine(day, now.timetz().replace(microsecond=0))
except ValueError:
    sys.exit(f"any-day.sh: {text!r} is not a date (2026-09-30) or date and time (2026-09-30T17:45)")
print(int((when - now).total_seconds()))
EOF
)

# The servers on the real clock.
./dev infra up >/dev/null

sign=+
[[ "$offset" == -* ]] && sign=""
echo "== running the tests at ${target} (Asia/Shanghai), system clock offset ${sign}${offset} s"
exec uv run --frozen env \
  LD_PRELOAD="$lib" \
  FAKETIME="${sign}${offset}" \
  FAKETIME_DONT_FAKE_MONOTONIC=1 \
  pytest "$@"

#!/usr/bin/env bash
# The trainer's Python environment (docs/training.md "Environment"): a venv holding the pins of
# server/training/python/requirements.txt. The one place that knows how to make it: .ci/run (the
# trainer's tests) and `npm start` (the demo's loopback GPU host) both run this.
#
#   scripts/trainer-venv.sh [VENV]      (default: .cache/trainer-venv of this clone)
#
# Kept while it holds exactly those pins: VENV/.requirements-sha256 is requirements.txt's sha256,
# written last, once pip has installed them and the trainer's `env` check has imported them.
# Otherwise it is made again: from Debian's /usr/bin/python3, so its interpreter links stay
# readable by every user (a venv from a pyenv build under /root is not), then pip from this
# machine's package indexes (its pip configuration). pip also asks pypi.org, which may be
# unreachable here: one retry, and those warnings filtered out. Exit 0 when the venv is ready;
# 1 with the reason on stderr when it cannot be made (nothing half-made is left behind).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.cache/trainer-venv}"
requirements="$root/server/training/python/requirements.txt"
base_python=/usr/bin/python3

fail() {
  echo "trainer venv: $*" >&2
  exit 1
}

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
ready() { [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements-sha256" 2>/dev/null)" == "$want" ]]; }

# Two makers at once (npm start and .ci/run in one clone) would remove each other's work.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  echo "trainer venv: another process is making $venv; waiting for it"
  flock 9
fi

if ready; then
  echo "trainer venv: $venv holds requirements.txt's pins; kept"
  exit 0
fi

[[ -x $base_python ]] || fail "$base_python is missing (apt-get install python3 python3-venv)"
echo "trainer venv: making $venv (once; about 2 minutes: pip installs torch, transformers, trl, accelerate, peft from this machine's package indexes)"
started=$SECONDS
rm -rf "$venv"
trap 'rm -rf "$venv"' EXIT
"$base_python" -m venv "$venv" || fail "$base_python -m venv failed (on Debian: apt-get install python3-venv)"
if ! { "$venv/bin/pip" install --quiet --progress-bar off --retries 1 -r "$requirements" 2>&1; } |
  { grep -v -E 'Retrying \(Retry|is ignored: it is neither' || true; }; then
  fail "pip install -r $requirements failed (see pip's messages above)"
fi
# The trainer's own check: every pinned package imports (exit 1 names the one that does not).
"$venv/bin/python" "$root/server/training/python/train.py" env >/dev/null || fail "the installed packages do not import (train.py env failed)"
echo "$want" >"$venv/.requirements-sha256"
trap - EXIT
echo "trainer venv: made $venv in $((SECONDS - started)) s"

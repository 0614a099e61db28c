# Sourced by demo.sh and test.sh in the repository root: .venv with jsctl and its dev extra installed.
# Debian and Ubuntu ship venv's ensurepip in a package of its own (python3.X-venv). Without it,
# `python3 -m venv` fails after leaving a .venv without pip behind: check first, say what to install.

venv_error() { echo "hack/${0##*/}: error: $*" >&2; exit 1; }

if ! { [ -x .venv/bin/python ] && .venv/bin/python -c 'import pip' 2>/dev/null; }; then
  command -v python3 >/dev/null || venv_error "python3 not found: install Python 3.10 or newer"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    package=$(python3 -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')
    venv_error "python3 cannot create .venv (its ensurepip module is missing): install the package $package" \
               "(Debian/Ubuntu: sudo apt install $package) and run again"
  fi
  python3 -m venv --clear .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

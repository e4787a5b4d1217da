# shellcheck shell=bash
# Shared by scripts/test and scripts/run: create .venv and install requirements.txt into it.
# Source this file from the repo root; it only defines functions and changes no shell options.

# Hash of requirements.txt, recorded after a successful install so that later runs can skip pip
# (a no-op `pip install -r` still takes seconds: it resolves every pin against the installed set).
_requirements_hash() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum requirements.txt | cut -d' ' -f1
    else  # macOS ships shasum, not sha256sum
        shasum -a 256 requirements.txt | cut -d' ' -f1
    fi
}

ensure_venv() {
    local stamp=.venv/.requirements.sha256
    local python=${PYTHON:-python3}
    export PIP_DISABLE_PIP_VERSION_CHECK=1

    # Test for the interpreter, not the folder: a venv creation that died half-way leaves a
    # folder behind that would otherwise be trusted forever.
    if [[ ! -x .venv/bin/python ]]; then
        echo "==> creating .venv with $("$python" --version 2>&1)"
        "$python" -m venv .venv
        # Old pips bundled with some Pythons mis-resolve binary wheels; upgrade once, not every run.
        .venv/bin/pip install -q --upgrade pip
    fi

    local want
    want=$(_requirements_hash)
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    echo "==> installing requirements.txt into .venv"
    .venv/bin/pip install -q -r requirements.txt
    # Written only after pip succeeded, so a failed install is retried next time.
    echo "$want" >"$stamp"
}

# Debian packages the tests need (scripts/system-packages.txt, one a line, # comments). Installs the
# missing ones with apt-get when run as root (CI); otherwise names them and carries on, so the tests
# that need them fail with a clear reason instead of this script.
ensure_system_packages() {
    local list=scripts/system-packages.txt missing=() pkg
    [[ -f $list ]] || return 0
    while read -r pkg; do
        pkg=${pkg%%#*}
        pkg=${pkg//[[:space:]]/}
        [[ -z $pkg ]] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done <"$list"
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "!! missing Debian packages: ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
        return 0
    fi
    echo "==> apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

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

#!/usr/bin/env bash
# Debian packages the test suite needs (a real Dovecot IMAP server). Installed only when missing and
# when we are root on a Debian-like system; elsewhere the tests that need them say how to get them.
set -u
packages=()
command -v dovecot >/dev/null 2>&1 || packages+=(dovecot-imapd)
[ ${#packages[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: missing ${packages[*]} (install with: sudo apt-get install ${packages[*]}); their tests will be skipped" >&2
    exit 0
fi
echo "installing ${packages[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

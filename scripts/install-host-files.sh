#!/bin/sh
# install-host-files.sh <host name>: installs a host's files (timers, their services, helper scripts, its tmpfiles
# list: stacks/host-files.ts) as root, over the readiness gate's ssh path (the deploy account through the bastion,
# whose user, key and host key come from ~/.ssh/config) and sudo: Cloud VPS gives every project member passwordless
# sudo on the project's instances (keystone's project-creation hook writes the LDAP sudoRole "default-sudo":
# sudoUser %project-<project>, sudoCommand ALL, sudoOption !authenticate; wikimedia/operations-puppet
# modules/openstack/files/dalmatian/keystone/wmfkeystonehooks/ldapgroups.py create_sudo_defaults @9c413ba).
# Run by the cloud stack's host-files step (local-exec) after the gate. The files arrive in the environment and
# go to the host on ssh's stdin, behind scripts/host-files-remote.sh, which installs them; never in argv.
# Environment: MEET_SSH_USER, MEET_SSH_ADDRESS, MEET_SSH_BASTION, MEET_HOST_FILES, MEET_SUDO_WAIT_SECONDS (300:
# how long sudo may keep refusing, e.g. before LDAP's sudo rules reach a new host), MEET_RETRY_SECONDS (10).
# Exit 0 installed, 1 failed, 2 usage.
set -eu
name=${1:-}
user=${MEET_SSH_USER:-}
address=${MEET_SSH_ADDRESS:-}
bastion=${MEET_SSH_BASTION:-}
files=${MEET_HOST_FILES:-}
wait=${MEET_SUDO_WAIT_SECONDS:-300}
retry=${MEET_RETRY_SECONDS:-10}
if [ -z "$name" ] || [ -z "$user" ] || [ -z "$address" ] || [ -z "$bastion" ] || [ -z "$files" ]; then
  echo "usage: MEET_SSH_USER=... MEET_SSH_ADDRESS=... MEET_SSH_BASTION=... MEET_HOST_FILES=... install-host-files.sh <host name>" >&2
  exit 2
fi
case $wait$retry in *[!0-9]*) echo "install-host-files: MEET_SUDO_WAIT_SECONDS and MEET_RETRY_SECONDS must be whole numbers" >&2; exit 2;; esac
case $files in *meet_units*meet_tmpfiles*) ;; *) echo "install-host-files: MEET_HOST_FILES holds no host files declarations (stacks/host-files.ts renders them)" >&2; exit 2;; esac
installer=$(dirname "$0")/host-files-remote.sh
if [ ! -r "$installer" ]; then echo "install-host-files: $installer is missing" >&2; exit 2; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
remote() {
  ssh -o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump="$bastion" "$user@$address" "$@"
}
deadline=$(( $(date +%s) + wait ))
until remote sudo -n true </dev/null >"$log" 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "host $name ($address): gave up after $wait s waiting for sudo -n as $user; last answer: $(tail -n 1 "$log")" >&2
    exit 1
  fi
  sleep "$retry"
done
if ! { cat "$installer"; printf '%s\n' "$files"; echo meet_commit; } | remote sudo -n /bin/sh -s >"$log" 2>&1; then
  echo "host $name ($address): installing the host files failed; the host said: $(tail -n 5 "$log")" >&2
  exit 1
fi
# The stream ends in meet_commit, which reports; a cut stream (inside a here-document) never reaches it.
if ! grep -q '^host files in place: ' "$log"; then
  echo "host $name ($address): the host did not confirm the host files; it said: $(tail -n 5 "$log")" >&2
  exit 1
fi
sed "s/^/host $name: /" "$log"

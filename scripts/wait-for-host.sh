#!/bin/sh
# wait-for-host.sh <host name>: waits until a new Cloud VPS host takes the deploy account's ssh login (through the
# bastion) and its Docker daemon answers that account; run by the cloud stack's readiness gate (local-exec), so
# `cdktf deploy <env>-cloud <env>-services` reaches the services stack only with hosts that are ready.
# Environment: MEET_SSH_USER, MEET_SSH_ADDRESS, MEET_SSH_BASTION (ProxyJump; its user, key and host key come from
# ~/.ssh/config), MEET_WAIT_SECONDS (1800), MEET_RETRY_SECONDS (10), MEET_FORGET_HOST_KEY (1: the host is new, so
# first drop a key known_hosts holds for its address from an instance it replaced). Exit 0 ready, 1 gave up, 2 usage.
set -eu
name=${1:-}
user=${MEET_SSH_USER:-}
address=${MEET_SSH_ADDRESS:-}
bastion=${MEET_SSH_BASTION:-}
wait=${MEET_WAIT_SECONDS:-1800}
retry=${MEET_RETRY_SECONDS:-10}
if [ -z "$name" ] || [ -z "$user" ] || [ -z "$address" ] || [ -z "$bastion" ]; then
  echo "usage: MEET_SSH_USER=... MEET_SSH_ADDRESS=... MEET_SSH_BASTION=... wait-for-host.sh <host name>" >&2
  exit 2
fi
case $wait$retry in *[!0-9]*) echo "wait-for-host: MEET_WAIT_SECONDS and MEET_RETRY_SECONDS must be whole numbers" >&2; exit 2;; esac
if [ "${MEET_FORGET_HOST_KEY:-0}" = 1 ]; then
  # A replaced host answers on the same address with a new key, which StrictHostKeyChecking=accept-new refuses.
  ssh-keygen -R "$address" >/dev/null 2>&1 || true
fi
deadline=$(( $(date +%s) + wait ))
log=$(mktemp)
trap 'rm -f "$log"' EXIT
remote() {
  ssh -o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump="$bastion" "$user@$address" "$@" >"$log" 2>&1
}
while :; do
  what="sshd on $address to accept $user (via $bastion)"
  if remote true; then
    what="dockerd to answer $user"
    if remote docker version --format '{{.Server.Version}}'; then
      echo "host $name ($address) is ready: ssh as $user, Docker $(tail -n 1 "$log")"
      exit 0
    fi
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "host $name ($address): gave up after $wait s waiting for $what; last answer: $(tail -n 1 "$log")" >&2
    exit 1
  fi
  sleep "$retry"
done

#!/bin/sh
# Runs a private systemd user manager (`systemd --user`) as root on a machine whose PID 1 is not
# systemd (a container, a CI runner), so that units can be started, reloaded and stopped with
# `systemctl --user` exactly as on a real host. The manager stays in this process (it is exec'd),
# and touches nothing outside its own mount namespace and its own cgroup:
#
#   export XDG_RUNTIME_DIR=/run/units-test/runtime XDG_CONFIG_HOME=/run/units-test/config
#   mkdir -p -m 700 "$XDG_RUNTIME_DIR"; mkdir -p "$XDG_CONFIG_HOME/systemd/user"
#   sh systemd-user-manager.sh units-test &  # units go in $XDG_CONFIG_HOME/systemd/user
#   systemctl --user daemon-reload; systemctl --user start my.socket; ...
#   systemctl --user exit                    # stops every unit, then the manager
#   find /sys/fs/cgroup -depth -type d -path '*/units-test*' -delete   # its cgroups, now empty
#
# Keep XDG_RUNTIME_DIR out of /tmp: a unit with PrivateTmp=yes would not see the manager's notify
# socket there. The optional argument names the manager's cgroup (default units-test-<pid>).
set -eu

if [ "${GRACEFUL_USER_MANAGER_NAMESPACE:-}" != 1 ]; then
  # A mount namespace of our own: the mounts below are seen by the manager and its units only.
  GRACEFUL_USER_MANAGER_NAMESPACE=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
unset GRACEFUL_USER_MANAGER_NAMESPACE
name="${1:-units-test-$$}"

# `systemd --user` moves every process of its own cgroup into <cgroup>/init.scope. Started in the
# root cgroup, as every process here is, it would move every process of the machine; so it gets a
# cgroup of its own first, below the current one.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  current="$(sed -n 's/^0:://p' /proc/self/cgroup)"
  mkdir "/sys/fs/cgroup${current%/}/$name"
  echo $$ > "/sys/fs/cgroup${current%/}/$name/cgroup.procs"
else
  # Hybrid or legacy hierarchy. systemd tracks units in name=systemd (and the cgroup2 "unified"
  # hierarchy, if mounted) at the same path. Only those two stay visible to it, so that it creates
  # no cgroup in the controller hierarchies (cpu, memory, pids...), where this process stays put.
  current="$(sed -n 's/^[0-9]*:name=systemd://p' /proc/self/cgroup)"
  for hierarchy in systemd unified; do
    if [ -d "/sys/fs/cgroup/$hierarchy${current%/}" ]; then
      mkdir "/sys/fs/cgroup/$hierarchy${current%/}/$name"
      echo $$ > "/sys/fs/cgroup/$hierarchy${current%/}/$name/cgroup.procs"
    fi
  done
  unified="$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true)"
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  mkdir /sys/fs/cgroup/systemd
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  if [ "$unified" = cgroup2fs ]; then
    mkdir /sys/fs/cgroup/unified
    mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
  fi
fi

# systemd --user refuses to start unless /run/systemd/system exists (the sign of a systemd-booted
# host), and as root it takes the nodes that InaccessiblePaths= and ProtectHome= mount over
# hidden paths from /run/systemd/inaccessible, which PID 1 would have created.
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir /run/systemd/system /run/systemd/inaccessible
mkdir -m 000 /run/systemd/inaccessible/dir
install -m 000 /dev/null /run/systemd/inaccessible/reg
mkfifo -m 000 /run/systemd/inaccessible/fifo
mknod -m 000 /run/systemd/inaccessible/chr c 0 0
mknod -m 000 /run/systemd/inaccessible/blk b 0 0

exec /lib/systemd/systemd --user

#!/bin/busybox sh
# PID 1 of a swapchaos guest: mount the kernel filesystems, then run the
# agent, which loads the modules (in the order the image builder listed them)
# and brings the NICs up itself: syscalls and rtnetlink, where a process per
# module or address costs about 20 ms each under TCG. The controller owns every
# address; the swapchaos.* words of the kernel command line carry them, and
# this script passes them on using shell builtins only.
bb=/bin/busybox
$bb mkdir -p /proc /sys /dev /tmp /run
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev

set -- --modules=/etc/swapchaos/modules
read -r cmdline < /proc/cmdline
for word in $cmdline; do
  case "$word" in
    swapchaos.role=*) set -- "$@" "--role=${word#*=}" ;;
    swapchaos.listen=*) set -- "$@" "--listen=${word#*=}" ;;
    swapchaos.nic=*) set -- "$@" "--nic=${word#*=}" ;;
    swapchaos.route=*) set -- "$@" "--route=${word#*=}" ;;
    swapchaos.forward=1) set -- "$@" --forward ;;
  esac
done
read -r uptime _ < /proc/uptime
echo "swapchaos-init: at ${uptime} s starting swapchaos-agent $*"
/usr/bin/swapchaos-agent "$@"
echo "swapchaos-init: agent exited with status $?"
$bb poweroff -f

#!/bin/busybox sh
# The smallest init: proves the kernel reached userspace, then powers off.
# Used by the acceleration probe and as the boot benchmark's baseline.
/bin/busybox echo "swapchaos-probe: init reached"
/bin/busybox poweroff -f

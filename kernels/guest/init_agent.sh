#!/bin/busybox sh
# PID 1 of a swapchaos guest: mount, load modules, name and address the NICs
# from the kernel command line, then run the agent. The controller owns every
# address; this script only applies what /proc/cmdline says.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /bin /sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

echo "swapchaos-init: loading modules"
while read -r mod args; do
  insmod "/lib/modules/$mod" $args || echo "swapchaos-init: insmod $mod failed"
done < /etc/swapchaos/modules
ip link set lo up

# swapchaos.nic=NAME,MAC,ADDR/PREFIX: rename the NIC with that MAC, address it.
nic() {
  old_ifs=$IFS; IFS=,; set -- $1; IFS=$old_ifs
  tries=0
  while [ $tries -lt 50 ]; do
    for d in /sys/class/net/*; do
      if [ "$(cat "$d/address")" = "$2" ]; then
        ip link set "${d##*/}" name "$1"
        ip addr add "$3" dev "$1"
        ip link set "$1" up
        return 0
      fi
    done
    tries=$((tries + 1))
    sleep 0.1
  done
  echo "swapchaos-init: no NIC with MAC $2 for $1"
}

role=
listen=
routes=
for word in $(cat /proc/cmdline); do
  case "$word" in
    swapchaos.role=*) role=${word#*=} ;;
    swapchaos.listen=*) listen=${word#*=} ;;
    swapchaos.nic=*) nic "${word#*=}" ;;
    swapchaos.route=*) routes="$routes ${word#*=}" ;;
    swapchaos.forward=1) echo 1 > /proc/sys/net/ipv4/ip_forward ;;
  esac
done
# swapchaos.route=DEST/PREFIX,GATEWAY, applied once every NIC is up.
for r in $routes; do
  ip route add "${r%,*}" via "${r#*,}" || echo "swapchaos-init: route $r failed"
done

echo "swapchaos-init: starting agent role=$role listen=$listen"
/usr/bin/swapchaos-agent --role="$role" --listen="$listen"
echo "swapchaos-init: agent exited with status $?"
poweroff -f

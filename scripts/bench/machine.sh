# shellcheck shell=bash
# Sourced by the scorer's benchmarks (score.sh, score_ab.sh, folio.sh): machine_line prints the machine's cores,
# memory and load, and whether its kernel hands free memory back to a hypervisor (virtio-balloon free page
# reporting). On such a VM, memory a process has not used for about 2 s costs 1-2 ms per MB to touch again
# (docs/scorer.md, "What hands the memory back"), so a run after a quiet spell is slower than the same run repeated:
# read the figures with that in mind.
machine_line() {
  local pr=/sys/module/page_reporting/parameters reporting="no free page reporting"
  if [ -r "$pr/page_reporting_order" ] && [ -d /sys/bus/virtio/drivers/virtio_balloon ]; then
    reporting="free memory reported to the host in blocks of order $(cat "$pr/page_reporting_order")"
    reporting+=" (runs after a quiet spell first-touch cold memory)"
  fi
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "load $(cut -d' ' -f1-3 /proc/loadavg); $reporting"
}

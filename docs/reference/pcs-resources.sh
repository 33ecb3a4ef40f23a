#!/bin/sh
# The reference cluster's resources, as pcs commands (docs/reference-cluster.md). Run on one
# node of a running cluster, or against a CIB file: PCS="pcs -f cib.xml" sh pcs-resources.sh
# (test/integration/reference-cluster.test.ts does that, then crm_verify and crm_simulate).
# Names to adapt: the nodes (blade1, blade2: the application; quorum1: quorum and atcad only),
# the slots in pcmk_host_map, the shelf managers' addresses, the floating IPs, the DRBD resource.
set -eu
PCS=${PCS:-pcs}

# Fencing is what makes a red blade safe to leave: nothing runs without it. Health moves
# resources off a node that atcad made red; yellow moves nothing.
$PCS property set stonith-enabled=true node-health-strategy=migrate-on-red

# One fence_atca device for the shelf (both shelf managers). A blade proven off is found off at
# once; pcmk_host_check=static-list: no 'list' call on the fence path; no pcmk_delay_*: a
# delay only adds to failover.
$PCS stonith create shelf1 fence_atca ip=10.0.0.10 ip2=10.0.0.11 username=admin \
    password_script=/usr/local/sbin/shelf1-password cipher=3 \
    pcmk_host_map="blade1:3;blade2:4;quorum1:5" pcmk_host_check=static-list \
    pcmk_reboot_action=off pcmk_reboot_timeout=90

# The data: DRBD, promoted on one blade, never on the quorum node.
$PCS resource create data ocf:linbit:drbd drbd_resource=data \
    op monitor interval=29s role=Promoted timeout=20s \
    op monitor interval=31s role=Unpromoted timeout=20s \
    promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true
$PCS resource create data-fs ocf:heartbeat:Filesystem device=/dev/drbd0 directory=/srv/data fstype=ext4 \
    op monitor interval=20s timeout=40s

# The application, a clone on both blades (a warm standby), and its floating IP with the
# instance on the promoted blade. (ocf:heartbeat:Dummy stands in for your application's agent.)
$PCS resource create app ocf:heartbeat:Dummy op monitor interval=10s timeout=20s clone
$PCS resource create app-ip ocf:heartbeat:IPaddr2 ip=192.0.2.10 cidr_netmask=24 \
    op monitor interval=10s timeout=20s

$PCS constraint colocation add data-fs with Promoted data-clone INFINITY
$PCS constraint order promote data-clone then start data-fs
$PCS constraint colocation add app-ip with data-fs INFINITY
$PCS constraint colocation add app-ip with app-clone INFINITY
$PCS constraint order start data-fs then start app-ip
$PCS constraint order start app-clone then start app-ip

# Two blades run it; the quorum node never does.
$PCS constraint location data-clone avoids quorum1
$PCS constraint location app-clone avoids quorum1
$PCS constraint location data-fs avoids quorum1
$PCS constraint location app-ip avoids quorum1

# atcad, with its own floating IP: the address both shelf managers send their traps to. It
# runs on the quorum node only: its journal (the fence budget, fault episodes, the health it
# applied) is on that node's disk, and it must never run on a blade it may have to fence. If
# the quorum node is lost, the cluster goes on without atcad's acceleration.
$PCS resource create atcad-ip ocf:heartbeat:IPaddr2 ip=10.0.0.20 cidr_netmask=24 \
    op monitor interval=10s timeout=20s
$PCS resource create atcad ocf:heartbeat:anything binfile=/usr/bin/node \
    cmdline_options="/usr/lib/atca-fence/atcad.mjs --config /etc/atca-fence/atcad.yaml" \
    op monitor interval=10s timeout=20s
$PCS resource group add atcad-group atcad-ip atcad
$PCS constraint location atcad-group avoids blade1 blade2

#!/bin/sh
# cloud-init seeds: the engine makes STATEDIR/vms/NAME/cidata.iso at each
# start as the VM's owner, from vm.conf's cloud-init block and the owner's
# keys, hands it to the runner read-only (the test runner tells its
# volume id on the console) and removes it with the VM.
. "$(dirname "$0")/../lib.sh"

KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOME home@test"
ALICE="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIALICE alice@test"
SEEDS="$VMTOP_STATE_DIR/vms"
me=$(id -un)
touch "$T/kernel"
mkdir -p "$HOME/.ssh"
echo "$KEY" >"$HOME/.ssh/id_ed25519.pub"
echo "ssh-rsa AAAAB3NzaC1yc2EAAAA second@test" >"$HOME/.ssh/id_rsa.pub"
printf '# alice\n%s\n' "$ALICE" >"$T/alice.pub"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n' >"$T/private"
printf '#cloud-config\nhostname: mine\n' >"$HOME/ud.yaml"
chmod 644 "$T/alice.pub"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "ci" { kernel \$k; cloud-init }
vm "keyed" { kernel \$k; cloud-init { user alice; ssh-key "$T/alice.pub" } }
vm "own" { kernel \$k; cloud-init { user-data ~/ud.yaml } }
vm "nokey" { kernel \$k; cloud-init { ssh-key "$T/nosuch.pub" } }
vm "private" { kernel \$k; cloud-init { ssh-key "$T/private" } }
vm "nodata" { kernel \$k; cloud-init { user-data "$T/nosuch.yaml" } }
vm "plain" { kernel \$k }
vm "net" { kernel \$k; interface user; interface user; cloud-init }
vm "gen" { kernel \$k; cloud-init }
vm "nobodys" { kernel \$k; owner 65534
	cloud-init { user alice; ssh-key "$T/alice.pub" } }
CONF

# extract ISO FILE: a file of the seed, by its Rock Ridge name
extract() { isoinfo -R -x "/$2" -i "$1"; }

start_engine
check "start ci" vt start ci
iso="$SEEDS/ci/cidata.iso"
check "the seed exists" test -f "$iso"
check_out "the runner got it read-only" \
    "ci: cloud-init seed cidata, [0-9]* bytes, read-only" vt capture ci
check_out "its volume id is cidata" "Volume id: cidata" isoinfo -d -i "$iso"
check_out "meta-data names the vm" 'local-hostname: "ci"' extract "$iso" meta-data
check_out "instance-id too" 'instance-id: "ci"' extract "$iso" meta-data
check_out "user-data makes the owner's user" "name: \"$me\"" \
    extract "$iso" user-data
check_out "with passwordless sudo" 'sudo: "ALL=(ALL) NOPASSWD:ALL"' \
    extract "$iso" user-data
check_out "and the first of ~/.ssh's keys" "\"$KEY\"" extract "$iso" user-data
check_fail "not the later ones" "" sh -c \
    "isoinfo -R -x /user-data -i '$iso' | grep ssh-rsa"
check_fail "no network-config without a user-mode nic" "" sh -c \
    "isoinfo -R -f -i '$iso' | grep network-config"
check_out "owned by the owner" "^$(id -u) 600\$" stat -c '%u %a' "$iso"
check_out "show mentions the seed" "cloud-init $iso" vt show ci
check_out "show names its user" "$me" vt show ci
check "stop ci" vt stop ci -w

check "start keyed" vt start keyed
check_out "user names the user" 'name: "alice"' \
    extract "$SEEDS/keyed/cidata.iso" user-data
check_out "ssh-key gives its keys" "\"$ALICE\"" \
    extract "$SEEDS/keyed/cidata.iso" user-data
check_fail "and no other" "" sh -c \
    "isoinfo -R -x /user-data -i '$SEEDS/keyed/cidata.iso' | grep home@test"
check "stop keyed" vt stop keyed -f
check "start own" vt start own
check_out "user-data is used as is" "^hostname: mine" \
    extract "$SEEDS/own/cidata.iso" user-data
check "stop own" vt stop own -f

# network-config: DHCP on each user-mode nic, by the MAC the runner got
check "start net" vt start net
extract "$SEEDS/net/cidata.iso" network-config >"$T/net.cfg"
for i in 0 1; do
	mac=$(vt capture net | sed -n "s/^net: nic $i lladdr //p")
	check_out "nic $i is matched by the MAC it got ($mac)" \
	    "macaddress: \"$mac\"" sed -n "/nic$i:/,/dhcp4/p" "$T/net.cfg"
done
check_out "each gets DHCP" "^2\$" grep -c "dhcp4: true" "$T/net.cfg"
check "stop net" vt stop net -f

# errors name the vm and the path
check_fail "a missing ssh-key" \
    "vm nokey: cloud-init ssh-key $T/nosuch.pub: No such file or directory" \
    vt start nokey
check_fail "a private key is refused" \
    "vm private: cloud-init ssh-key $T/private: a private key, not a public one" \
    vt start private
check_fail "a missing user-data" \
    "vm nodata: cloud-init user-data $T/nosuch.yaml: No such file or directory" \
    vt start nodata
check_out "the failed start says why" "nokey.*failed" vt status nokey
check "no seed without a cloud-init block" vt start plain
check_fail "the runner got none" "" sh -c \
    "$VMTOP -S $SOCK -c 'capture plain' | grep 'cloud-init seed'"
check "stop plain" vt stop plain -f

# no key in ~/.ssh: ssh-keygen makes vmtop's own, once
rm -f "$HOME/.ssh/"*.pub
check "start gen" vt start gen
check "a key was made" test -f "$VMTOP_STATE_DIR/id_ed25519"
check_out "its public half is in the seed" \
    "$(cut -d' ' -f1-2 "$VMTOP_STATE_DIR/id_ed25519.pub")" \
    extract "$SEEDS/gen/cidata.iso" user-data
cp "$VMTOP_STATE_DIR/id_ed25519.pub" "$T/gen.pub"
check "stop gen" vt stop gen -w
check "start gen again" vt start gen
check "the same key is kept" cmp "$T/gen.pub" "$VMTOP_STATE_DIR/id_ed25519.pub"
check "stop gen again" vt stop gen -f

if [ "$(id -u)" -eq 0 ]; then
	check "start nobodys" vt start nobodys
	check_out "a user's seed is the user's" "^65534 600\$" \
	    stat -c '%u %a' "$SEEDS/nobodys/cidata.iso"
	check_out "in a folder of the user's" "^65534 700\$" \
	    stat -c '%u %a' "$SEEDS/nobodys"
	check "stop nobodys" vt stop nobodys -w
fi

# a vm removed from the config leaves nothing behind
sed -i '/^vm "ci"/d; /^vm "nobodys"/,$d' "$CONF"
check "reload without ci" vt reload
check_fail "ci is gone" "no such vm" vt show ci
check_fail "so is its seed" "" test -e "$SEEDS/ci"
check_fail "and nobodys'" "" test -e "$SEEDS/nobodys"
check_out "keyed's stays" cidata.iso ls "$SEEDS/keyed"

finish

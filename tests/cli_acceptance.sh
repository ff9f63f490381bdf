#!/bin/sh
# Issue acceptance checks, run exactly as a user runs the CLI. Each failure prints the command.
set -u
A="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
j() { jq -r "$1" "$2"; }

# 1. tcp under loss/reorder/dup: verified, deterministic trace hash, seed-dependent.
CMD="run --l5p tcp --bytes 64M --loss 2% --reorder 2% --dup 1% --seed 7 --json"
$A $CMD > "$T/a.json"; $A $CMD > "$T/b.json"
$A run --l5p tcp --bytes 64M --loss 2% --reorder 2% --dup 1% --seed 8 --json > "$T/c.json"
[ "$(j .verified "$T/a.json")" = true ] || fail "$A $CMD: not verified"
[ "$(j .trace_hash "$T/a.json")" = "$(j .trace_hash "$T/b.json")" ] || fail "$A $CMD: trace_hash differs between runs"
[ "$(j .trace_hash "$T/a.json")" != "$(j .trace_hash "$T/c.json")" ] || fail "seed 8 gave the same trace_hash as seed 7"

# 2. framed, offload on, no loss: every received message full.
CMD="run --l5p framed --offload on --bytes 64M --json"
$A $CMD > "$T/d.json"
[ "$(j .verified "$T/d.json")" = true ] || fail "$A $CMD: not verified"
[ "$(j .stats.server.rx_framed_msgs_full "$T/d.json")" = "$(j .stats.server.rx_framed_msgs "$T/d.json")" ] \
  || fail "$A $CMD: not every message full"
[ "$(j .stats.server.rx_framed_msgs "$T/d.json")" -gt 0 ] || fail "$A $CMD: no messages"

# 3. framed at 2% loss + 2% reorder: verified, resyncs start and succeed, TX recoveries.
CMD="run --l5p framed --offload on --bytes 64M --loss 2% --reorder 2% --seed 3 --json"
$A $CMD > "$T/e.json"
[ "$(j .verified "$T/e.json")" = true ] || fail "$A $CMD: not verified"
for k in server.rx_framed_resync_req_start server.rx_framed_resync_res_ok client.tx_framed_ooo client.tx_framed_dump_bytes; do
  [ "$(j ".stats.$k" "$T/e.json")" -gt 0 ] || fail "$A $CMD: $k is 0"
done

# 4. tamper: integrity outcome, nothing wrong delivered.
CMD="run --l5p framed --offload on --bytes 16M --tamper 0.1% --json"
$A $CMD > "$T/f.json"
case "$(j .outcome "$T/f.json")" in integrity:*) ;; *) fail "$A $CMD: outcome $(j .outcome "$T/f.json")";; esac
[ "$(j .delivered_wrong_bytes "$T/f.json")" = 0 ] || fail "$A $CMD: wrong bytes delivered"

# 5. pcap: tshark reads it, no malformed frames, every TCP checksum good.
$A run --l5p framed --bytes 4M --loss 1% --pcap "$T/w.pcap" > /dev/null || fail "pcap run failed"
n=$(tshark -r "$T/w.pcap" 2>/dev/null | wc -l)
bad=$(tshark -r "$T/w.pcap" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | wc -l)
good=$(tshark -r "$T/w.pcap" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status==1' 2>/dev/null | wc -l)
[ "$n" -gt 1000 ] || fail "tshark read only $n frames"
[ "$bad" = 0 ] || fail "tshark: $bad malformed frames"
[ "$good" = "$n" ] || fail "tshark: $good of $n frames with a good TCP checksum"

# ---- issue #3: TLS ----
CMD="run --l5p tls --offload on --bytes 64M --record-size 16K --seed 1 --json"
$A $CMD > "$T/t1.json"
[ "$(j .verified "$T/t1.json")" = true ] || fail "$A $CMD: not verified"
full=$(j .stats.server.rx_tls_msgs_full "$T/t1.json"); recs=$(j .stats.server.rx_tls_records "$T/t1.json")
[ $((full * 100)) -ge $((recs * 99)) ] || fail "$A $CMD: only $full of $recs records full"
enc=$(j .stats.client.tx_tls_encrypted_bytes "$T/t1.json")
[ $((enc * 100)) -ge $((64 * 1048576 * 99)) ] || fail "$A $CMD: tx_tls_encrypted_bytes $enc < 99%"

CMD="run --l5p tls --offload on --bytes 64M --loss 5% --seed 1 --json"
$A $CMD > "$T/t2.json"
[ "$(j .verified "$T/t2.json")" = true ] || fail "$A $CMD: not verified"
full=$(j .stats.server.rx_tls_msgs_full "$T/t2.json"); recs=$(j .stats.server.rx_tls_records "$T/t2.json")
[ $((full * 100)) -ge $((recs * 50)) ] || fail "$A $CMD: only $full of $recs records full (< 50%)"
for k in server.rx_tls_resync_res_ok client.tx_tls_ooo client.tx_tls_dump_bytes; do
  [ "$(j ".stats.$k" "$T/t2.json")" -gt 0 ] || fail "$A $CMD: $k is 0"
done

CMD="run --l5p tls --offload on --bytes 64M --reorder 2% --seed 1 --json"
$A $CMD > "$T/t3.json"
[ "$(j .verified "$T/t3.json")" = true ] || fail "$A $CMD: not verified"
full=$(j .stats.server.rx_tls_msgs_full "$T/t3.json"); recs=$(j .stats.server.rx_tls_records "$T/t3.json")
[ $((full * 100)) -ge $((recs * 24)) ] || fail "$A $CMD: only $full of $recs records full (< 24%)"

CMD="run --l5p tls --offload on --bytes 16M --tamper 0.1% --json"
$A $CMD > "$T/t4.json"
[ "$(j .outcome "$T/t4.json")" = "alert:bad_record_mac" ] || fail "$A $CMD: outcome $(j .outcome "$T/t4.json")"
[ "$(j .delivered_wrong_bytes "$T/t4.json")" = 0 ] || fail "$A $CMD: wrong bytes delivered"

# pcap + keylog: tshark decrypts every application-data record; without the keylog, none.
$A run --l5p tls --offload on --bytes 4M --pcap "$T/tls.pcap" --keylog "$T/keys" --json > "$T/t5.json"
recs=$(j .stats.client.tx_tls_records "$T/t5.json")
dec=$(tshark -r "$T/tls.pcap" -o "tls.keylog_file:$T/keys" -T fields -e tls.record.content_type 2>/dev/null | tr ',\t' '\n\n' | grep -cx 23)
[ "$dec" = "$recs" ] || fail "tshark decrypted $dec application-data records of $recs the client sent"
plain=$(tshark -r "$T/tls.pcap" -T fields -e tls.record.content_type 2>/dev/null | tr ',\t' '\n\n' | grep -cx 23)
[ "$plain" = 0 ] || fail "without the keylog tshark read $plain application-data records"

# ---- issue #11: TLS 1.2, ChaCha20-Poly1305, KeyUpdate ----
# Every version x cipher offloaded: >= 99 % records full on a clean wire; at 5 % loss >= 95 % of
# the loss-limited maximum, (1 - p)^11 for records of 11 whole segments (tls_tx.cc).
lim=$(awk 'BEGIN { printf "%d", 0.95 * 0.95 ^ 11 * 10000 }')  # basis points
for v in 1.2 1.3; do
  for ci in aes128gcm aes256gcm chacha20poly1305; do
    for off in on zc; do
      CMD="run --l5p tls --tls-version $v --cipher $ci --offload $off --bytes 64M --seed 1 --json"
      $A $CMD > "$T/v.json"
      [ "$(j .verified "$T/v.json")" = true ] || fail "$A $CMD: not verified"
      full=$(j .stats.server.rx_tls_msgs_full "$T/v.json"); recs=$(j .stats.server.rx_tls_records "$T/v.json")
      [ $((full * 100)) -ge $((recs * 99)) ] || fail "$A $CMD: only $full of $recs records full"
      CMD="run --l5p tls --tls-version $v --cipher $ci --offload $off --bytes 64M --loss 5% --seed 1 --json"
      $A $CMD > "$T/v.json"
      [ "$(j .verified "$T/v.json")" = true ] || fail "$A $CMD: not verified"
      full=$(j .stats.server.rx_tls_msgs_full "$T/v.json"); recs=$(j .stats.server.rx_tls_records "$T/v.json")
      [ $((full * 10000)) -ge $((recs * lim)) ] || fail "$A $CMD: only $full of $recs records full (< $lim bp)"
    done
    CMD="run --l5p tls --tls-version $v --cipher $ci --offload on --bytes 16M --tamper 0.1% --json"
    $A $CMD > "$T/v.json"
    [ "$(j .outcome "$T/v.json")" = "alert:bad_record_mac" ] || fail "$A $CMD: outcome $(j .outcome "$T/v.json")"
    [ "$(j .delivered_wrong_bytes "$T/v.json")" = 0 ] || fail "$A $CMD: wrong bytes delivered"
    CMD="run --l5p tls --tls-version $v --cipher $ci --offload on --openssl-peer --bidir --loss 1% --bytes 16M --json"
    [ $v = 1.3 ] && CMD="$CMD --key-update-every 64"
    $A $CMD > "$T/v.json"
    [ "$(j .verified "$T/v.json")" = true ] || fail "$A $CMD: not verified"
  done
done
# KeyUpdate every 64 records, both directions, under loss and reorder: rekeys counted on both
# hosts, and records full at least 90 % of the same run without KeyUpdates.
for ci in aes128gcm aes256gcm chacha20poly1305; do
  CMD="run --l5p tls --cipher $ci --offload on --bytes 64M --loss 2% --reorder 2% --bidir --seed 1 --json"
  $A $CMD > "$T/k0.json"
  $A $CMD --key-update-every 64 > "$T/k1.json"
  [ "$(j .verified "$T/k1.json")" = true ] || fail "$A $CMD --key-update-every 64: not verified"
  for k in client.tx_tls_rekey_ok server.tx_tls_rekey_ok client.rx_tls_rekey_ok server.rx_tls_rekey_ok; do
    [ "$(j ".stats.$k" "$T/k1.json")" -gt 0 ] || fail "$A $CMD --key-update-every 64: $k is 0"
  done
  for h in client server; do
    f0=$(j ".stats.$h.rx_tls_msgs_full" "$T/k0.json"); f1=$(j ".stats.$h.rx_tls_msgs_full" "$T/k1.json")
    [ $((f1 * 10)) -ge $((f0 * 9)) ] || fail "$A $CMD --key-update-every 64: $h records full $f1 < 90 % of $f0 without"
  done
done
# tshark decrypts TLS 1.2 and 1.3 with ChaCha20-Poly1305, across KeyUpdates, both directions.
for v in 1.2 1.3; do
  ku=""; [ $v = 1.3 ] && ku="--key-update-every 8"
  $A run --l5p tls --tls-version $v --cipher chacha20poly1305 --offload on --bidir --bytes 2M $ku \
    --pcap "$T/c.pcap" --keylog "$T/ck" --json > "$T/c.json"
  recs=$(( $(j .stats.client.tx_tls_records "$T/c.json") + $(j .stats.server.tx_tls_records "$T/c.json") ))
  dec=$(tshark -r "$T/c.pcap" -o "tls.keylog_file:$T/ck" -T fields -e tls.record.content_type 2>/dev/null | tr ',\t' '\n\n' | grep -cx 23)
  kus=$(( $(j .stats.client.tx_tls_rekey_ok "$T/c.json") + $(j .stats.server.tx_tls_rekey_ok "$T/c.json") ))
  # 1.3: each KeyUpdate is a record of its own (inner type 22): the rest are application data.
  [ "$dec" = $((recs - kus)) ] || fail "TLS $v ChaCha20: tshark decrypted $dec application-data records of $((recs - kus))"
done

# ---- issue #4: NVMe/TCP ----
CMD="run --l5p nvme --offload on --rw randread --io-size 256K --depth 32 --bytes 256M --seed 1 --json"
$A $CMD > "$T/n1.json"
[ "$(j .verified "$T/n1.json")" = true ] || fail "$A $CMD: not verified"
rd=$((256 * 1048576))
ddp=$(j .stats.client.rx_nvme_tcp_ddp_bytes "$T/n1.json")
[ $((ddp * 100)) -ge $((rd * 99)) ] || fail "$A $CMD: rx_nvme_tcp_ddp_bytes $ddp < 99% of $rd"
for k in nvme_sw_copy_bytes nvme_sw_crc_bytes; do
  v=$(j ".stats.client.$k" "$T/n1.json")
  [ $((v * 100)) -le "$rd" ] || fail "$A $CMD: $k = $v > 1% of bytes read"
done
CMD="run --l5p nvme --offload on --rw randwrite --io-size 256K --depth 32 --bytes 64M --seed 1 --json"
$A $CMD > "$T/n2.json"
[ "$(j .verified "$T/n2.json")" = true ] || fail "$A $CMD: not verified"
crc=$(j .stats.client.tx_nvme_tcp_crc_bytes "$T/n2.json")
[ $((crc * 100)) -ge $((64 * 1048576 * 99)) ] || fail "$A $CMD: tx_nvme_tcp_crc_bytes $crc < 99%"
for rw in randread randwrite; do
  CMD="run --l5p nvme --offload on --rw $rw --io-size 64K --depth 8 --bytes 32M --loss 2% --reorder 2% --json"
  $A $CMD > "$T/n3.json"
  [ "$(j .verified "$T/n3.json")" = true ] || fail "$A $CMD: not verified"
  [ "$(j .stats.client.rx_nvme_tcp_resync "$T/n3.json")" -gt 0 ] || fail "$A $CMD: no resync at the host"
  [ "$(j .stats.server.rx_nvme_tcp_resync "$T/n3.json")" -gt 0 ] || fail "$A $CMD: no resync at the controller"
done
CMD="run --l5p nvme --offload on --rw randrw --io-size 4K --depth 16 --bytes 8M --tamper 0.1% --json"
$A $CMD > "$T/n4.json"
case "$(j .outcome "$T/n4.json")" in ok) fail "$A $CMD: tamper went unnoticed";; esac
[ "$(j .delivered_wrong_bytes "$T/n4.json")" = 0 ] || fail "$A $CMD: wrong bytes delivered"
$A run --l5p nvme --offload on --rw randrw --io-size 64K --depth 8 --bytes 16M --pcap "$T/nvme.pcap" > /dev/null || fail "nvme pcap run"
good=$(tshark -r "$T/nvme.pcap" -o nvme-tcp.check_hdgst:TRUE -o nvme-tcp.check_ddgst:TRUE -V 2>/dev/null | grep -cE "Digest: 0x[0-9a-f]+ \[correct\]")
bad=$(tshark -r "$T/nvme.pcap" -o nvme-tcp.check_hdgst:TRUE -o nvme-tcp.check_ddgst:TRUE -V 2>/dev/null | grep -E "Digest: 0x" | grep -vc "\[correct\]")
[ "$good" -gt 500 ] || fail "tshark dissected only $good NVMe/TCP digests"
[ "$bad" = 0 ] || fail "tshark: $bad bad NVMe/TCP digests"

# NVMe/TCP over TLS: both offloads compose (TX NVMe then TLS, RX TLS then NVMe) and count.
CMD="run --l5p nvme-tls --offload on --rw randrw --io-size 64K --depth 8 --bytes 32M --seed 1 --json"
$A $CMD > "$T/nt1.json"
[ "$(j .verified "$T/nt1.json")" = true ] || fail "$A $CMD: not verified"
for k in client.tx_tls_encrypted_bytes server.tx_tls_encrypted_bytes client.rx_tls_decrypted_bytes \
         server.rx_tls_decrypted_bytes client.tx_nvme_tcp_crc_bytes server.tx_nvme_tcp_crc_bytes \
         client.rx_nvme_tcp_crc_ok_packets server.rx_nvme_tcp_crc_ok_packets; do
  [ "$(j ".stats.$k" "$T/nt1.json")" -gt 0 ] || fail "$A $CMD: $k is 0"
done
# ... including the copy offload: reads land in their buffers straight from the NIC's decryption.
CMD="run --l5p nvme-tls --offload on --rw randread --io-size 256K --depth 32 --bytes 64M --seed 1 --json"
$A $CMD > "$T/nt4.json"
[ "$(j .verified "$T/nt4.json")" = true ] || fail "$A $CMD: not verified"
skip=$(j .stats.client.nvme_ddp_skip_bytes "$T/nt4.json"); copied=$(j .stats.client.nvme_sw_copy_bytes "$T/nt4.json")
[ $((skip * 100)) -ge $((67108864 * 99)) ] || fail "$A $CMD: only $skip bytes placed by the NIC"
[ $((copied * 100)) -le 67108864 ] || fail "$A $CMD: host copied $copied bytes"
CMD="run --l5p nvme-tls --offload on --rw randread --io-size 16K --depth 8 --bytes 16M --loss 2% --reorder 2% --json"
$A $CMD > "$T/nt2.json"
[ "$(j .verified "$T/nt2.json")" = true ] || fail "$A $CMD: not verified"
for k in client.rx_tls_resync_res_ok client.rx_nvme_tcp_resync server.tx_tls_ooo server.tx_nvme_tcp_ooo; do
  [ "$(j ".stats.$k" "$T/nt2.json")" -gt 0 ] || fail "$A $CMD: $k is 0"
done
CMD="run --l5p nvme-tls --openssl-peer --offload on --rw randrw --io-size 64K --depth 8 --bytes 16M --loss 1% --json"
$A $CMD > "$T/nt5.json"
[ "$(j .verified "$T/nt5.json")" = true ] || fail "$A $CMD: not verified (OpenSSL record layer at the controller)"
[ "$(j .stats.client.rx_nvme_tcp_crc_ok_packets "$T/nt5.json")" -gt 0 ] || fail "$A $CMD: no crc_ok at the host"
# tshark decrypts every application-data record of both queues, both ways, with the keylog.
$A run --l5p nvme-tls --offload on --rw randrw --io-size 64K --depth 8 --bytes 4M --pcap "$T/nt.pcap" \
  --keylog "$T/ntkeys" --json > "$T/nt3.json"
recs=$(( $(j .stats.client.tx_tls_records "$T/nt3.json") + $(j .stats.server.tx_tls_records "$T/nt3.json") ))
dec=$(tshark -r "$T/nt.pcap" -o "tls.keylog_file:$T/ntkeys" -d tcp.port==4420,tls -T fields -e tls.record.content_type \
      2>/dev/null | tr ',\t' '\n\n' | grep -cx 23)
[ "$dec" = "$recs" ] || fail "nvme-tls: tshark decrypted $dec application-data records of $recs sent"

# 5b. --bidir: delivered and target both count the two directions (was "16777216 / 8388608").
CMD="run --l5p tls --openssl-peer --bidir --bytes 8M --loss 1%"
$A $CMD --json > "$T/bidir.json"; $A $CMD > "$T/bidir.txt"
[ "$(j .verified "$T/bidir.json")" = true ] || fail "$A $CMD: not verified"
[ "$(j .bytes "$T/bidir.json")" = 16777216 ] && [ "$(j .bytes_delivered "$T/bidir.json")" = 16777216 ] \
  && [ "$(j .directions "$T/bidir.json")" = 2 ] && [ "$(j .bytes_per_direction "$T/bidir.json")" = 8388608 ] \
  || fail "$A $CMD --json: bytes $(j .bytes "$T/bidir.json") delivered $(j .bytes_delivered "$T/bidir.json") directions $(j .directions "$T/bidir.json")"
grep -q "delivered      16777216 / 16777216 bytes (2 directions x 8388608)" "$T/bidir.txt" \
  || fail "$A $CMD: $(grep delivered "$T/bidir.txt")"

# 6. bad input: clear error, non-zero exit, no crash.
for bad_args in "--bytes 12Q" "--loss 150%" "--l5p nosuch" "--mtu 100" "--flows 0" "--l5p tls --record-size 32K" \
                "--l5p framed --offload zc" "--l5p tls --cipher des" "--l5p nvme --io-size 1000" \
                "--l5p nvme --rw sideways" "--l5p nvme --lba-size 1024" "--l5p nvme-tls --offload ddp" \
                "--l5p nvme --queues 0" \
                "--mtu 70000" "--mtu 65536" "--mtu 575" "--mtu 9001" "--seed -1" "--seed abc" "--seed 1e3" \
                "--seed 18446744073709551616" "--flows -1" "--flows 4294967297" "--l5p nvme --depth -1" \
                "--l5p nvme --port 70000" "--l5p nvme --port 0" "--l5p nvme --queues 4294967297" \
                "--l5p nvme --lba-size -512" "--nic-fault reset" "--nic-fault bogus=1" "--nic-fault reset-after-tx=-1"; do
  $A run $bad_args > "$T/out" 2>&1; rc=$?
  { [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qi "error\|must\|not a\|not in\|invalid\|fail" "$T/out"; } \
    || fail "$A run $bad_args: rc=$rc, output: $(head -c 200 "$T/out")"
done

# 6b. the edges of those ranges are accepted.
for ok_args in "--mtu 576" "--mtu 9000" "--seed 18446744073709551615" "--seed 0"; do
  $A run --bytes 64K $ok_args --json > "$T/out" 2>&1 || fail "$A run --bytes 64K $ok_args: rejected"
  [ "$(j .verified "$T/out")" = true ] || fail "$A run --bytes 64K $ok_args: not verified"
done
[ "$(j .seed "$T/out")" = 0 ] || fail "--seed 0: report says seed $(j .seed "$T/out")"

# 7. fail closed (issue #9): a device reset mid-stream is survived (contexts re-created); reset
# and then refused ends with a clear outcome; neither leaks plaintext (tests/fail_closed_test.cc
# scans the pcap; here: the outcome and the counters a user sees).
CMD="run --l5p tls --bytes 2M --nic-fault reset-after-tx=400 --json"
$A $CMD > "$T/fc1.json"
[ "$(j .verified "$T/fc1.json")" = true ] || fail "$A $CMD: not verified"
[ "$(j .stats.client.nic_dev_resets "$T/fc1.json")" = 1 ] && [ "$(j .stats.client.tx_tls_ctx_restore "$T/fc1.json")" -ge 1 ] \
  || fail "$A $CMD: resets $(j .stats.client.nic_dev_resets "$T/fc1.json") restores $(j .stats.client.tx_tls_ctx_restore "$T/fc1.json")"
CMD="run --l5p tls --bytes 2M --nic-fault reset-after-tx=400,reject-create-from=3 --json"
$A $CMD > "$T/fc2.json"
[ "$(j .outcome "$T/fc2.json")" = "tls:tx_offload_lost" ] || fail "$A $CMD: outcome $(j .outcome "$T/fc2.json")"
[ "$(j .delivered_wrong_bytes "$T/fc2.json")" = 0 ] || fail "$A $CMD: wrong bytes delivered"
[ "$(j .stats.client.tx_tls_drop_no_ctx "$T/fc2.json")" -gt 0 ] || fail "$A $CMD: no frame dropped"

# 8. TSO + GRO (issue #12): super-segments cut by the NIC, merged batches; on the wire only
# MTU-sized frames with good IP / TCP checksums, and tshark decrypts every record with the keylog.
CMD="run --l5p tls --offload on --bytes 4M --record-align none --tso on --gro on --pcap $T/tso.pcap --keylog $T/tso.keys --json"
$A $CMD > "$T/tso.json"
[ "$(j .verified "$T/tso.json")" = true ] || fail "$A $CMD: not verified"
[ "$(j .stats.client.nic_tx_tso_packets "$T/tso.json")" -gt 0 ] && [ "$(j .stats.server.drv_rx_gro_skbs "$T/tso.json")" -gt 0 ] \
  || fail "$A $CMD: tso $(j .stats.client.nic_tx_tso_packets "$T/tso.json") gro $(j .stats.server.drv_rx_gro_skbs "$T/tso.json")"
big=$(tshark -r "$T/tso.pcap" -Y 'frame.len > 1514' 2>/dev/null | wc -l)
badcs=$(tshark -r "$T/tso.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
  -Y 'tcp.checksum.status==0 || ip.checksum.status==0' 2>/dev/null | wc -l)
goodcs=$(tshark -r "$T/tso.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
  -Y 'tcp.checksum.status==1 && ip.checksum.status==1' 2>/dev/null | wc -l)
recs=$(tshark -r "$T/tso.pcap" -o tls.keylog_file:"$T/tso.keys" -Y 'tls.app_data' -T fields -e frame.number 2>/dev/null | wc -l)
[ "$big" = 0 ] && [ "$badcs" = 0 ] && [ "$goodcs" -gt 2000 ] && [ "$recs" -gt 100 ] \
  || fail "$A $CMD: frames over the MTU $big, bad / good checksums $badcs / $goodcs, decrypted record frames $recs"

# bench tls --reps: the paired ratios need at least one pair; 0 is refused before anything runs.
if $A bench tls --reps 0 > "$T/reps.out" 2>&1; then fail "$A bench tls --reps 0: accepted"; fi
grep -q "reps" "$T/reps.out" || fail "$A bench tls --reps 0: no message naming --reps"

# bench tls (c), the record layer alone: every record size measured, and the offload's record
# layer does more than the copy it is compared with (it also frames, checks and counts).
$A bench tls --record-layer-only --json > "$T/rl.json" || fail "$A bench tls --record-layer-only: failed"
for rs in 2048 4096 8192 16384; do
  python3 - "$T/rl.json" "$rs" <<'PY' || fail "$A bench tls --record-layer-only: record $rs: $(cat "$T/rl.json")"
import json, sys
c = json.load(open(sys.argv[1]))["record_layer_cycles_per_record"][sys.argv[2]]
sys.exit(0 if c["rx_offload"] > c["rx_copy"] > 0 and c["tx_offload"] > c["tx_copy"] > 0 else 1)
PY
done

[ "$fails" = 0 ] && echo "cli acceptance: all checks passed"
exit "$fails"

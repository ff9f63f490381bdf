# ktls.sh [PORT] - (guest) start ktls_peer (kernel TLS echo) in the background; its log is
# /host/ktls.log so the host reads the per-connection summaries (cipher, md5, bytes).
PORT=${1:-4433}
cd /root && setsid ktls_peer cert.pem key.pem "$PORT" > /host/ktls.log 2>&1 < /dev/null &
sleep 0.5; grep -q '^KTLS listening' /host/ktls.log

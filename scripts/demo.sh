#!/bin/bash
# Starts the real nginx with the zkcredit module on loopback and shows what a
# client without a credential gets. Stops everything it started.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build}")
module="$build/module/nginx/ngx_http_zkcredit_module.so"
prefix=$(mktemp -d /tmp/zkcredit-demo.XXXXXX)
chmod 755 "$prefix"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
redis_port=$(free_port)

nginx_pid=""
redis_pid=""
cleanup() {
    if [[ -n "$nginx_pid" ]]; then
        kill -QUIT "$nginx_pid" 2> /dev/null || true
        wait "$nginx_pid" 2> /dev/null || true
    fi
    if [[ -n "$redis_pid" ]]; then
        kill "$redis_pid" 2> /dev/null || true
        wait "$redis_pid" 2> /dev/null || true
    fi
    rm -rf "$prefix"
}
trap cleanup EXIT

mkdir -p "$prefix/tmp" "$prefix/html"
# A fresh refund signing key for this demo, readable by its owner only.
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$prefix/refund.key")
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$prefix" --logfile "$prefix/redis.log" &
redis_pid=$!
echo '{"data":[{"id":"demo-model"}]}' > "$prefix/html/models"
cat > "$prefix/nginx.conf" <<CONF
load_module $module;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    zkcredit_redis 127.0.0.1:$redis_port;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        zkcredit_scope 1;
        zkcredit_c_max 1000;
        zkcredit_verification_key $root/circuits/keys/verification_key.json;
        zkcredit_signing_key $prefix/refund.key;
        # "return" runs before the access phase, so a gated location
        # serves real content: here files, in production proxy_pass.
        location /v1/ { zkcredit on; alias $prefix/html/; }
        location = /healthz { return 200 "ok\n"; }
    }
}
CONF

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "nginx -t with load_module $module"
/usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" -t

/usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.05
done

step "GET /healthz (not gated)"
curl -s -i "http://127.0.0.1:$port/healthz"

step "GET /v1/models without a credential"
curl -s -i "http://127.0.0.1:$port/v1/models"
echo

status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/models")
if [[ "$status" != 402 ]]; then
    echo "demo: expected 402 from the gated location, got $status" >&2
    exit 1
fi
step "demo finished: nginx answered 402 with the challenge; stopped"

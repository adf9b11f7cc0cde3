#!/usr/bin/env bash
# Deploy check (outside CI): runs the shipped nginx configuration with a throw-away self-signed certificate on
# free local ports in front of a fresh concours, and checks over TLS that pages and the API are served with the
# security headers, that plain HTTP redirects to HTTPS, and that a submission goes through.
# Usage: scripts/nginx/test.sh   (installs nginx with apt-get when missing; needs root for that)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v nginx >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
[ -x build/concours ] || scripts/build.sh
WORK=$(mktemp -d /tmp/concours-nginx.XXXXXX)
cleanup() { [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP=$(free_port); HTTPS=$(free_port); HTTP=$(free_port)

build/concours serve --data "$WORK/data" --listen "127.0.0.1:$APP" --challenges challenges --workers 1 \
  --secure-cookies > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
openssl req -x509 -newkey ed25519 -nodes -days 1 -subj "/CN=localhost" \
  -keyout "$WORK/privkey.pem" -out "$WORK/fullchain.pem" 2>/dev/null
sed -e "s#127.0.0.1:8080#127.0.0.1:$APP#" -e "s#listen 443 ssl;#listen 127.0.0.1:$HTTPS ssl;#" \
    -e "s#listen 80;#listen 127.0.0.1:$HTTP;#" -e "/listen \[::\]/d" \
    -e "s#/etc/ssl/concours/#$WORK/#" -e "s#http2 on;##" scripts/nginx/concours.conf > "$WORK/site.conf"
cat > "$WORK/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $WORK/body;
  proxy_temp_path $WORK/proxy;
  include $WORK/site.conf;
}
CONF
nginx -t -c "$WORK/nginx.conf" -p "$WORK" 2>&1 | tail -1
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do grep -q "listening on" "$WORK/server.log" && curl -sk "https://127.0.0.1:$HTTPS/" -o /dev/null && break; sleep 0.2; done

fail() { echo "nginx check FAILED: $*"; cat "$WORK/error.log" 2>/dev/null | tail -5; exit 1; }
B="https://127.0.0.1:$HTTPS"
curl -skI "$B/" | grep -qi "^content-security-policy:" || fail "no CSP on the home page"
curl -skI "$B/" | grep -qi "^strict-transport-security:" || fail "no HSTS"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/")" = 301 ] || fail "plain HTTP does not redirect"
curl -sk "$B/api/v1/challenges" | grep -q visiomel-demo || fail "API not reachable through nginx"
curl -sk -X POST "$B/api/v1/users" -H 'Content-Type: application/json' \
  -d '{"username":"tls_user","email":"t@example.org","password":"correct-horse-battery"}' | grep -q tls_user || fail "register"
COOKIE=$(curl -sk -D - -o /dev/null -X POST "$B/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"tls_user","password":"correct-horse-battery"}' | grep -i '^set-cookie:')
echo "$COOKIE" | grep -q "Secure" || fail "the session cookie lacks Secure behind TLS"
echo "nginx check passed: TLS on $HTTPS, redirect from $HTTP, security headers, API, Secure cookie"

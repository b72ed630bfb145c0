#!/bin/sh
# Regenerates the development TLS files in certs/dev/: a throw-away CA (ca.crt) and a server
# certificate (server.crt, server.key) for localhost, 127.0.0.1 and ::1, ECDSA P-256, valid for
# ten years. The CA private key is deleted after signing, so every run creates a new CA.
#
# Development and tests only. Never deploy these files.
#
# Usage: certs/gen-dev-certs.sh [OUTPUT_DIR]   (default: certs/dev next to this script)
set -eu

out="${1:-$(dirname "$0")/dev}"
days=3650
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

mkdir -p "$out"

# Certificate authority.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key"
openssl req -new -x509 -key "$work/ca.key" -sha256 -days "$days" \
    -subj "/O=sbc development/CN=sbc development CA (not for production)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$work/ca.crt"

# Server key and certificate signed by that CA.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/server.ec.key"
openssl pkcs8 -topk8 -nocrypt -in "$work/server.ec.key" -out "$work/server.key"
openssl req -new -key "$work/server.key" -sha256 \
    -subj "/O=sbc development/CN=localhost" \
    -out "$work/server.csr"
cat > "$work/server.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -sha256 -days "$days" -extfile "$work/server.ext" \
    -out "$work/server.crt"

openssl verify -CAfile "$work/ca.crt" "$work/server.crt" >/dev/null

cp "$work/ca.crt" "$work/server.crt" "$out/"
cp "$work/server.key" "$out/server.key"
chmod 0644 "$out/ca.crt" "$out/server.crt"
chmod 0600 "$out/server.key"
echo "wrote $out/ca.crt $out/server.crt $out/server.key (valid $days days)"

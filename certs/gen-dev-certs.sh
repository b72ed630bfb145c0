#!/bin/sh
# Regenerates the development TLS files in certs/dev/, all ECDSA P-256 and valid for ten years:
#
#   ca.crt                    a throw-away CA
#   server.crt, server.key    server certificate for localhost, 127.0.0.1 and ::1
#   server2.crt, server2.key  a second server certificate for the same names (certificate
#                             reload tests swap server.* for server2.*)
#   client.crt, client.key    client certificate, CN dev-client (mutual TLS tests)
#
# The CA private key is deleted after signing, so every run creates a new CA and every file must
# be replaced together.
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

# issue NAME SUBJECT EXTENSIONS: a PKCS#8 key and a certificate signed by the CA.
issue() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$work/$1.ec.key"
    openssl pkcs8 -topk8 -nocrypt -in "$work/$1.ec.key" -out "$work/$1.key"
    openssl req -new -key "$work/$1.key" -sha256 -subj "$2" -out "$work/$1.csr"
    printf '%s\n' "$3" > "$work/$1.ext"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
        -CAcreateserial -sha256 -days "$days" -extfile "$work/$1.ext" \
        -out "$work/$1.crt"
    openssl verify -CAfile "$work/ca.crt" "$work/$1.crt" >/dev/null
}

server_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'

issue server "/O=sbc development/CN=localhost" "$server_ext"
issue server2 "/O=sbc development/CN=localhost" "$server_ext"
issue client "/O=sbc development/CN=dev-client" "$client_ext"

for name in ca server server2 client; do
    cp "$work/$name.crt" "$out/"
    chmod 0644 "$out/$name.crt"
done
for name in server server2 client; do
    cp "$work/$name.key" "$out/"
    chmod 0600 "$out/$name.key"
done
echo "wrote ca.crt server.{crt,key} server2.{crt,key} client.{crt,key} to $out (valid $days days)"

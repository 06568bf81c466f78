#!/usr/bin/env bash
# awsbox post-create hook: runs once on a new box. Installs Apache CouchDB 3 (single node, bound to
# loopback), makes the kpiggybank account a CouchDB admin (CouchDB 3 has no "admin party"), creates
# the database, and writes the credentials where the service reads them. The password is
# generated unless DB_PASS is set, and is never printed.
set -euo pipefail

DB_USER=${DB_USER:-kpiggybank}
DB_NAME=${DB_NAME:-bid_kpi}
DB_PASS=${DB_PASS:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
COUCH=http://127.0.0.1:5984

sudo apt-get update
sudo apt-get install -y curl gnupg ca-certificates

# Apache's package repository for CouchDB
curl -fsSL https://couchdb.apache.org/repo/keys.asc | gpg --dearmor | sudo tee /usr/share/keyrings/couchdb-archive-keyring.gpg >/dev/null
. /etc/os-release
echo "deb [signed-by=/usr/share/keyrings/couchdb-archive-keyring.gpg] https://apache.jfrog.io/artifactory/couchdb-deb/ ${VERSION_CODENAME} main" |
  sudo tee /etc/apt/sources.list.d/couchdb.list >/dev/null

# Answer the package's questions up front: standalone node, loopback only, our admin password.
sudo debconf-set-selections <<ANSWERS
couchdb couchdb/mode select standalone
couchdb couchdb/bindaddress string 127.0.0.1
couchdb couchdb/cookie string $(head -c 24 /dev/urandom | base64 | tr -d '/+=')
couchdb couchdb/adminpass password ${DB_PASS}
couchdb couchdb/adminpass_again password ${DB_PASS}
ANSWERS
sudo apt-get update
sudo DEBIAN_FRONTEND=noninteractive apt-get install -y couchdb

# Wait for CouchDB to answer (it needs a few seconds after install).
for _ in $(seq 1 60); do
  curl -fsS "$COUCH/_up" >/dev/null 2>&1 && break
  sleep 1
done

# The package created the admin "admin"; add ours with the same password, then the database.
# (kpiggybank creates the database and its design document itself too; doing it here surfaces
# a broken install at create time rather than at first request.)
curl -fsS -u "admin:${DB_PASS}" -X PUT "$COUCH/_node/_local/_config/admins/${DB_USER}" -d "\"${DB_PASS}\"" >/dev/null
curl -fsS -u "${DB_USER}:${DB_PASS}" -X PUT "$COUCH/${DB_NAME}" >/dev/null || true

# The service reads these at start (see scripts/awsbox/post-deploy.sh); readable by this user only.
umask 077
cat >"$HOME/kpiggybank.env" <<ENV
export DB_BACKEND=couchdb
export DB_USER=${DB_USER}
export DB_PASS=${DB_PASS}
export DB_NAME=${DB_NAME}
ENV
echo "CouchDB is installed; credentials are in $HOME/kpiggybank.env"

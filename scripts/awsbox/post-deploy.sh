#!/usr/bin/env bash
# awsbox post-deploy hook: runs after each `git push` of new code, before the processes restart.
# The service runs from the TypeScript build; the CouchDB credentials come from post-create.
set -euo pipefail
npm run build
if [ -f "$HOME/kpiggybank.env" ] && ! grep -q kpiggybank.env "$HOME/.bashrc" 2>/dev/null; then
  echo '. "$HOME/kpiggybank.env"' >>"$HOME/.bashrc"
fi

#!/bin/sh
# npm start's build: from the sources when they and TypeScript are here (a checkout installed with
# its devDependencies); otherwise the build the package came with (npm install --omit=dev has no tsc).
if [ -f tsconfig.build.json ] && command -v tsc >/dev/null 2>&1; then
  exec npm run build
fi
if [ ! -f dist/server.js ]; then
  echo "kpiggybank: dist/ is not built and TypeScript (a devDependency) is not installed: run npm install, then npm start" >&2
  exit 1
fi

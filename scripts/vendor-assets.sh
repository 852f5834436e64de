#!/usr/bin/env bash
# Copies the pinned front-end libraries of package.json from node_modules into the app, with their
# licences. Run it only to upgrade a library; the copied files are committed, so running and testing
# Lotse needs no npm and no network.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts
vendor=crm/static/vendor
rm -rf "$vendor" && mkdir -p "$vendor/bootstrap" "$vendor/htmx" "$vendor/tom-select" "$vendor/sortablejs" \
  "$vendor/chartjs"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$vendor/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$vendor/bootstrap/"
cp node_modules/bootstrap/LICENSE "$vendor/bootstrap/LICENSE"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx/"
cp node_modules/htmx.org/LICENSE "$vendor/htmx/LICENSE"
cp node_modules/tom-select/dist/js/tom-select.complete.min.js "$vendor/tom-select/"
cp node_modules/tom-select/dist/css/tom-select.bootstrap5.min.css "$vendor/tom-select/"
cp node_modules/tom-select/LICENSE "$vendor/tom-select/LICENSE"
cp node_modules/sortablejs/Sortable.min.js "$vendor/sortablejs/"
cp node_modules/sortablejs/LICENSE "$vendor/sortablejs/LICENSE"
# The UMD build bundles its one dependency (@kurkle/color, MIT) and sets window.Chart.
cp node_modules/chart.js/dist/chart.umd.min.js "$vendor/chartjs/"
cp node_modules/chart.js/LICENSE.md "$vendor/chartjs/LICENSE.md"
# The source maps are not shipped; drop the comments that point browsers at them.
sed -i '/sourceMappingURL=/d' "$vendor"/bootstrap/*.min.* "$vendor"/htmx/htmx.min.js \
  "$vendor"/tom-select/*.min.* "$vendor"/sortablejs/Sortable.min.js "$vendor"/chartjs/chart.umd.min.js
# axe-core runs only inside the browser tests, never in the app.
mkdir -p tests/browser/vendor
cp node_modules/axe-core/axe.min.js tests/browser/vendor/
cp node_modules/axe-core/LICENSE tests/browser/vendor/axe-core-LICENSE
{
  echo "Vendored front-end libraries (see package.json and scripts/vendor-assets.sh):"
  for pkg in bootstrap htmx.org tom-select sortablejs chart.js axe-core; do
    printf -- "- %s %s (%s)\n" "$pkg" "$(node -p "require('./node_modules/$pkg/package.json').version")" \
      "$(node -p "require('./node_modules/$pkg/package.json').license")"
  done
} > "$vendor/VERSIONS.txt"

#!/usr/bin/env bash
# Refresh static/vendor from the npm registry at the versions pinned in package-lock.json.
# The files are committed: `make run` needs neither Node.js nor the network.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts >/dev/null
out=static/vendor
rm -rf "$out" && mkdir -p "$out"/leaflet/images "$out"/leaflet.markercluster "$out"/topojson-client "$out"/us-atlas
m=node_modules
cp $m/leaflet/dist/leaflet.js $m/leaflet/dist/leaflet.css $m/leaflet/LICENSE "$out"/leaflet/
cp $m/leaflet/dist/images/* "$out"/leaflet/images/
cp $m/leaflet.markercluster/dist/leaflet.markercluster.js $m/leaflet.markercluster/dist/MarkerCluster.css \
   $m/leaflet.markercluster/dist/MarkerCluster.Default.css $m/leaflet.markercluster/MIT-LICENCE.txt "$out"/leaflet.markercluster/
cp $m/topojson-client/dist/topojson-client.min.js $m/topojson-client/LICENSE "$out"/topojson-client/
cp $m/us-atlas/states-10m.json $m/us-atlas/LICENSE $m/us-atlas/README.md "$out"/us-atlas/
for package in leaflet leaflet.markercluster topojson-client us-atlas; do
  node -e "const p=require('./$m/$package/package.json'); console.log(p.name + ' ' + p.version + ' (' + (p.license || 'see LICENSE') + ')')"
done > "$out"/VERSIONS.txt
rm -rf node_modules
echo "vendored: $(tr '\n' ';' < "$out"/VERSIONS.txt)"

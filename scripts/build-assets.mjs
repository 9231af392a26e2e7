// Builds Kaunti's static assets from the npm packages pinned in package-lock.json:
// compiles our Sass (GOV.UK Frontend with county branding, no GDS Transport font) and
// copies the scripts we serve into kaunti/static/build/. Nothing is fetched at run time.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "kaunti", "static", "build");
const modules = join(root, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(join(root, "kaunti", "static", "kaunti", "kaunti.scss"), {
  loadPaths: [modules],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "color-functions", "slash-div"],
});
writeFileSync(join(out, "kaunti.css"), css.css);

const copies = [
  ["govuk-frontend/dist/govuk/govuk-frontend.min.js", "govuk-frontend.min.js"],
  ["govuk-frontend/dist/govuk/assets/images", "govuk/assets/images"],
  ["govuk-frontend/dist/govuk/assets/manifest.json", "govuk/assets/manifest.json"],
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"],
  ["leaflet/dist/leaflet.js", "leaflet/leaflet.js"],
  ["leaflet/dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet/dist/images", "leaflet/images"],
];
for (const [from, to] of copies) {
  cpSync(join(modules, from), join(out, to), { recursive: true });
}
console.log(`assets built in ${out}`);

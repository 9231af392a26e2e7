// Builds Kaunti's static assets from the npm packages pinned in package-lock.json:
// compiles our Sass (GOV.UK Frontend with county branding, no GDS Transport font) and
// copies the scripts we serve into kaunti/static/build/. Nothing is fetched at run time.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

// Minified vendor files end by naming a source map (`//# sourceMappingURL=leaflet.js.map`)
// that we do not ship. Production's manifest storage follows such references when it hashes
// the files, and one that names a missing file fails `collectstatic`, so that no page can be
// served. The comment is dropped from every script and stylesheet we serve; a reference the
// pattern does not recognise fails the build here rather than in production.
const sourceMapComment = {
  ".js": /\n?\/\/[#@] sourceMappingURL=[^\s'"]*\s*$/,
  ".mjs": /\n?\/\/[#@] sourceMappingURL=[^\s'"]*\s*$/,
  ".css": /\n?\/\*[#@] sourceMappingURL=[^*]*\*\/\s*$/,
};
for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
  const extension = entry.name.slice(entry.name.lastIndexOf("."));
  if (!entry.isFile() || !(extension in sourceMapComment)) continue;
  const path = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(path, "utf8");
  const stripped = text.replace(sourceMapComment[extension], "\n");
  if (stripped.includes("sourceMappingURL")) {
    throw new Error(`${path} still names a source map: strip it in scripts/build-assets.mjs`);
  }
  if (stripped !== text) writeFileSync(path, stripped);
}
console.log(`assets built in ${out}`);

// Builds the front-end into core/static/build: compiles our Sass against GOV.UK Frontend and
// copies the GOV.UK JavaScript (our favicon is our own: no crown). Nothing is fetched at run time.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "core", "static", "build");

mkdirSync(out, { recursive: true });
const result = sass.compile(join(root, "assets", "app.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter()],
  // GOV.UK Frontend's own deprecation notices are not ours to fix.
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), result.css);
cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
console.log(`built ${out}`);

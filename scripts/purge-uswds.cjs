// Ship only the USWDS rules the pages use (run by scripts/build-assets, offline once npm has installed).
//
//   node scripts/purge-uswds.cjs <node_modules> <out.css>
//
// 1. PurgeCSS keeps the selectors whose class names appear in the templates or in safeslot.js
//    (the staff console's templates too: they share the stylesheet).
// 2. @font-face rules are dropped: the pages use the system font stack that USWDS lists after its
//    web fonts ("Source Sans Pro Web", "Helvetica Neue", Helvetica, Roboto, Arial, sans-serif), so no
//    font file is ever downloaded on a prepaid phone.
// 3. The few small images the kept rules point to (a checkbox tick, a select arrow) are inlined as
//    data: URIs (the pages' CSP allows img-src data:), so the stylesheet is one self-contained file.
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [modules, out] = process.argv.slice(2);
  if (!modules || !out) {
    console.error("usage: node scripts/purge-uswds.cjs <node_modules> <out.css>");
    process.exit(2);
  }
  const { PurgeCSS } = require(path.resolve(modules, "purgecss"));
  const dist = path.resolve(modules, "@uswds/uswds/dist");
  const console_dir = path.resolve(__dirname, "../src/safeslot/console");
  const [result] = await new PurgeCSS().purge({
    content: [
      `${console_dir}/templates/**/*.html`,
      `${console_dir}/static/*.js`,
      `${console_dir}/*.py`, // class names chosen in Python (labels, forms)
    ],
    css: [`${dist}/css/uswds.min.css`],
    keyframes: true,
    variables: true,
    fontFace: true,
    // Elements and states the templates use without naming them as classes.
    safelist: { standard: ["html", "body", "usa-focus"], deep: [/^usa-sr-only$/] },
  });
  let css = result.css.replace(/@font-face\s*\{[^}]*\}/g, "");
  css = css.replace(/url\((["']?)(\.\.\/img\/[^"')]+)\1\)/g, (whole, _q, rel) => {
    const file = path.resolve(dist, "css", rel);
    if (!fs.existsSync(file)) return whole;
    const data = fs.readFileSync(file);
    const type = file.endsWith(".svg") ? "image/svg+xml" : file.endsWith(".png") ? "image/png" : null;
    if (type === null || data.length > 4096) return whole;
    return `url("data:${type};base64,${data.toString("base64")}")`;
  });
  const left = css.match(/url\([^)]*\.\.\/[^)]*\)/g) || [];
  if (left.length) {
    console.error(`purge-uswds: ${left.length} url() left pointing outside the file: ${left.slice(0, 3).join(" ")}`);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `/*! USWDS (public domain, CC0), purged to the rules safeslot's pages use */\n${css}\n`);
  console.log(`purge-uswds: ${out} ${css.length} bytes (from ${fs.statSync(`${dist}/css/uswds.min.css`).size})`);
}

main().catch((err) => {
  console.error(`purge-uswds: ${err && err.message ? err.message : err}`);
  process.exit(1);
});

// "Try it out" in Swagger UI with the Token scheme, in headless Chromium driven by playwright-core:
// Authorize with a bare token, run GET /versions, and report the HTTP status the page shows.
// Used by scripts/docs_screenshot.sh when playwright-core is installed (NODE_PATH):
//   node scripts/docs_tryit.mjs http://127.0.0.1:8765 TOKEN OUT.png
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const [base, token, out] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const offsite = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) offsite.push(r.url()); });
  await page.goto(`${base}/docs`);
  await page.click("button.authorize");
  await page.fill(".auth-container input", token); // no "Token " prefix: the page adds it
  await page.click(".auth-btn-wrapper button.authorize");
  await page.click("button.btn-done");
  const op = page.locator(".opblock-get", { has: page.locator('[data-path="/versions"]') }).first();
  await op.locator(".opblock-summary").click();
  await op.locator("button.try-out__btn").click();
  await op.locator("button.execute").click();
  const status = (await op.locator(".live-responses-table .response .response-col_status").first().textContent()).trim();
  await op.scrollIntoViewIfNeeded();
  await page.screenshot({ path: out, fullPage: false });
  console.log(`try-it-out GET /versions: HTTP ${status}; requests to other hosts: ${offsite.length}`);
  process.exitCode = status === "200" && offsite.length === 0 ? 0 : 1;
} finally {
  await browser.close();
}

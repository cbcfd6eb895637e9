import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { Page } from "@playwright/test";

const ROOT = path.resolve(__dirname, "..", "..");

export const PUBLIC_PAGES = [
  { path: "/", name: "home", heading: "Unhurried care from a physician who knows you." },
  { path: "/services", name: "services", heading: "Everything your membership includes" },
  { path: "/memberships", name: "memberships", heading: "One clear fee. Unhurried care." },
  { path: "/contact", name: "contact", heading: "We would love to hear from you" },
  { path: "/privacy", name: "privacy", heading: "Notice of privacy practices" },
];

/** The newest emails in the test server's outbox, read with `bedside outbox`. */
export function outbox(limit = 10): string {
  const bin = process.env.BEDSIDE_BIN ?? path.join(ROOT, "target", "debug", "bedside");
  const data = path.join(ROOT, "end2end", ".data");
  return execFileSync(bin, ["outbox", "--limit", String(limit)], {
    cwd: ROOT,
    env: { ...process.env, BEDSIDE_DATABASE_URL: `sqlite://${data}/bedside.db?mode=rwc` },
    encoding: "utf8",
  });
}

/** A unique address per test, so tests can find their own emails. */
export function uniqueEmail(label: string): string {
  return `${label}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(__dirname, "..", "artifacts", "screenshots", `${name}.png`), fullPage: true });
}

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Page } from "@playwright/test";

const ROOT = path.resolve(__dirname, "..", "..");

export const PUBLIC_PAGES = [
  { path: "/", name: "home", heading: "Unhurried care from a physician who knows you." },
  { path: "/services", name: "services", heading: "Everything your membership includes" },
  { path: "/memberships", name: "memberships", heading: "One clear fee. Unhurried care." },
  { path: "/contact", name: "contact", heading: "We would love to hear from you" },
  { path: "/privacy", name: "privacy", heading: "Notice of privacy practices" },
  { path: "/membership-agreement", name: "membership-agreement", heading: "Membership agreement" },
  { path: "/join?tier=family", name: "join", heading: "Join with the Family membership" },
];

/** The newest emails in the test server's outbox, read with `bedside outbox` (with the
 * server's data folder: the outbox is sealed with its key). */
export function outbox(limit = 10): string {
  return bedside(["outbox", "--limit", String(limit)]);
}

/** A unique address per test, so tests can find their own emails. */
export function uniqueEmail(label: string): string {
  return `${label}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(__dirname, "..", "artifacts", "screenshots", `${name}.png`), fullPage: true });
}

const DATA = path.join(ROOT, "end2end", ".data");
/** The data of the second server, whose clock tests move (tests/clock/). */
export const CLOCK_DATA = path.join(ROOT, "end2end", ".data-clock");

function bedside(args: string[], data = DATA): string {
  const bin = process.env.BEDSIDE_BIN ?? path.join(ROOT, "target", "debug", "bedside");
  return execFileSync(bin, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      BEDSIDE_DATABASE_URL: `sqlite://${data}/bedside.db?mode=rwc`,
      BEDSIDE_DATA_DIR: data,
    },
    encoding: "utf8",
  }).trim();
}

/** The newest emails in the clock server's outbox. */
export function clockOutbox(limit = 10): string {
  return bedside(["outbox", "--limit", String(limit)], CLOCK_DATA);
}

export interface DemoAccount {
  email: string;
  password: string;
}

/** A demo account's email and (random, per installation) password from `seed-demo`'s file. */
export function demoAccount(email: string, data = DATA): DemoAccount {
  const text = fs.readFileSync(path.join(data, "demo-accounts.txt"), "utf8");
  const line = text.split("\n").find((l) => l.includes(` ${email} `));
  if (!line) throw new Error(`no demo account ${email}`);
  const password = line.split("password: ")[1].trim();
  return { email, password };
}

/**
 * The account's authenticator code at the test server's time (`bedside mfa-code --at`,
 * development only): the server's clock starts at a fixed instant, not at today.
 */
export async function mfaCode(page: Page, email: string, data = DATA): Promise<string> {
  const response = await page.request.get("/dev/clock");
  const now: string = (await response.json()).now;
  return bedside(["mfa-code", email, "--at", now], data);
}

export const PHYSICIAN = "dr.marsh@harborstreetmedicine.example";
export const STAFF = "frontdesk@harborstreetmedicine.example";
export const ADMIN = "admin@harborstreetmedicine.example";
export const MARIA = "maria.lopez@example.com";
export const JAMES = "james.okafor@example.com";

/** Signs in through the form; gives the authenticator code when asked. */
export async function signIn(page: Page, email: string, data = DATA) {
  const account = demoAccount(email, data);
  await page.goto("/signin");
  await page.getByLabel("Email address").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // The click returns before the answer arrives: wait until the page has left the form (for
  // the second factor or the account's home), or the check below would see the old address.
  await page.waitForURL((url) => url.pathname !== "/signin");
  if (page.url().includes("/signin/mfa")) {
    await enterMfaCode(page, email, data);
  }
}

/**
 * Enters the account's authenticator code on the second-factor page. A code works once
 * (replay protection), and the tests running alongside sign the same demo accounts in: so the
 * workers take turns per account (a lock file beside the server's data), and each waits for a
 * code none has used (the last one used is kept beside the lock). The turn is held only while
 * the code is entered.
 */
export async function enterMfaCode(page: Page, email: string, data = DATA) {
  const lock = path.join(data, `.mfa-${email}.lock`);
  const last = path.join(data, `.mfa-${email}.used`);
  for (let waited = 0; ; waited += 200) {
    try {
      fs.closeSync(fs.openSync(lock, "wx"));
      break;
    } catch {
      // A turn left behind by a test that was stopped: taken after two minutes.
      const stale = fs.existsSync(lock) && Date.now() - fs.statSync(lock).mtimeMs > 120_000;
      if (stale) fs.rmSync(lock, { force: true });
      await page.waitForTimeout(200);
    }
  }
  try {
    const used = fs.existsSync(last) ? fs.readFileSync(last, "utf8").trim() : "";
    let code = await mfaCode(page, email, data);
    for (let waited = 0; code === used && waited < 40_000; waited += 1_000) {
      await page.waitForTimeout(1_000);
      code = await mfaCode(page, email, data);
    }
    fs.writeFileSync(last, code);
    await page.getByLabel("Code").fill(code);
    // A plain form post: the answer is a new document, refused or not.
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Continue" }).click()]);
  } finally {
    fs.rmSync(lock, { force: true });
  }
  if (page.url().includes("/signin/mfa")) {
    throw new Error(`the second factor of ${email} was refused`);
  }
}

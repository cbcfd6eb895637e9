// Temporary: screenshots of the pages built this session (not committed).
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
const base = "http://127.0.0.1:3300";
const data = "/work/main/end2end/.data-shots";
const accounts = fs.readFileSync(`${data}/demo-accounts.txt`, "utf8");
const pw = (email) => accounts.split("\n").find((l) => l.includes(` ${email} `)).split("password: ")[1].trim();
const code = (email) => execFileSync("/work/main/target/debug/bedside", ["mfa-code", email], { env: { ...process.env, BEDSIDE_DATABASE_URL: `sqlite://${data}/bedside.db?mode=rwc`, BEDSIDE_DATA_DIR: data }, encoding: "utf8" }).trim();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
async function signIn(page, email) {
  await page.goto(`${base}/signin`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(pw(email));
  await page.getByRole("button", { name: "Sign in" }).click();
  if (page.url().includes("/signin/mfa")) {
    await page.getByLabel("Code").fill(code(email));
    await page.getByRole("button", { name: "Continue" }).click();
  }
}
const maria = await browser.newPage({ viewport: { width: 390, height: 900 } });
await signIn(maria, "maria.lopez@example.com");
await maria.goto(`${base}/portal/book?type=in_person`);
const day = maria.locator(".slot-day").nth(2);
await day.locator("summary").click();
await day.getByRole("radio").first().check();
await maria.getByLabel("What is the visit about?").fill("Annual physical");
await maria.getByRole("button", { name: "Book this visit" }).click();
await maria.waitForURL(/booked=1/);
await maria.screenshot({ path: "/tmp/shots/visits.png", fullPage: true });
await maria.goto(`${base}/account/security`);
await maria.getByRole("button", { name: "Make a private calendar link" }).click();
await maria.screenshot({ path: "/tmp/shots/security-calendar.png", fullPage: true });
await maria.goto(`${base}/portal/notifications`);
await maria.screenshot({ path: "/tmp/shots/notifications.png", fullPage: true });
const doc = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await signIn(doc, "dr.marsh@harborstreetmedicine.example");
await doc.goto(`${base}/dashboard/agenda?span=week`);
await doc.screenshot({ path: "/tmp/shots/agenda.png", fullPage: true });
await doc.goto(`${base}/dashboard/schedule`);
await doc.screenshot({ path: "/tmp/shots/schedule.png", fullPage: true });
await browser.close();
console.log("done");

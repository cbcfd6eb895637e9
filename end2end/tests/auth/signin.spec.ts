import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { ADMIN, JAMES, MARIA, PHYSICIAN, STAFF, screenshot, signIn, demoAccount, enterMfaCode } from "../support";

const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
}

test("the physician signs in with a password and an authenticator code, then signs out", async ({ page }) => {
  // Up to 30 s of it may be waiting for the next code (see enterMfaCode).
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // The refused sign-in is answered 401 on purpose; any other console error is a bug.
  page.on("console", (m) => m.type() === "error" && !m.text().includes("status of 401") && errors.push(m.text()));
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/signin\?next=\/dashboard$/);
  await expectAccessible(page);
  await screenshot(page, "signin-375");

  const account = demoAccount(PHYSICIAN);
  await page.getByLabel("Email address").fill(account.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("That email and password did not let you in");
  await expect(page.getByLabel("Email address")).toHaveValue(account.email);
  await expectAccessible(page);

  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/signin\/mfa/);
  await expect(page.getByRole("heading", { name: "Two-step sign-in" })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "signin-mfa-375");
  await enterMfaCode(page, PHYSICIAN);

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Patients" })).toBeVisible();
  // The patient list (the week's agenda may name her too).
  await expect(page.locator(".patient-list").getByRole("link", { name: "Maria Lopez" })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "dashboard-375");

  await page.getByRole("link", { name: "Schedule" }).click();
  await expect(page.getByRole("heading", { name: "Weekly hours" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Add day off" })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "schedule-375");

  await page.getByRole("link", { name: "Security" }).click();
  await expect(page.getByRole("heading", { name: "Sign-in and security" })).toBeVisible();
  await expect(page.getByText("This device", { exact: true })).toBeVisible();
  await expect(page.getByText(/On\. You have 10 unused recovery codes/)).toBeVisible();
  await expectAccessible(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await screenshot(page, "security-1280");

  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1$/);
  await expect(page.getByRole("status")).toContainText("You are signed out.");
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/signin\?next=\/dashboard$/);
  expect(errors).toEqual([]);
});

test("a patient cannot open another patient's record: 403, and the admin sees the attempt", async ({ page, browser }) => {
  // Staff and admin sign in with second factors, which wait for the next code when another
  // test running alongside just used the current one.
  test.setTimeout(120_000);
  // Staff look up James's record id in the patient list.
  const staffContext = await browser.newContext();
  const staff = await staffContext.newPage();
  await signIn(staff, STAFF);
  await expect(staff).toHaveURL(/\/dashboard$/);
  const href = await staff.locator(".patient-list").getByRole("link", { name: "James Okafor" }).getAttribute("href");
  const jamesId = href!.split("/").pop()!;
  await staffContext.close();

  await signIn(page, MARIA);
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { name: "Hello, Maria" })).toBeVisible();
  await expect(page.getByText("March 12, 1984")).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, "portal-375");

  const response = await page.goto(`/portal/patients/${jamesId}`);
  expect(response!.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You do not have access to this record" })).toBeVisible();
  await expect(page.getByText("James Okafor")).toHaveCount(0);
  await screenshot(page, "portal-forbidden");

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN);
  await expect(admin).toHaveURL(/\/admin$/);
  await admin.getByLabel("Outcome").selectOption("denied");
  await admin.getByRole("button", { name: "Filter" }).click();
  const row = admin.getByRole("row").filter({ hasText: jamesId });
  await expect(row).toContainText(`${MARIA} (patient)`);
  await expect(row).toContainText("patient_profile.read");
  await expect(row).toContainText("denied");
  await expectAccessible(admin);
  await admin.setViewportSize({ width: 1280, height: 900 });
  await screenshot(admin, "audit-log-1280");
  await adminContext.close();
});

test("the portal warns before an idle sign-out and staying signed in keeps the session", async ({ page }) => {
  test.setTimeout(150_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, JAMES);
  await expect(page).toHaveURL(/\/portal$/);
  // The test server signs patients out after 3 idle minutes; the warning comes 2 minutes before.
  const warning = page.getByRole("alertdialog", { name: "Are you still there?" });
  await expect(warning).toBeVisible({ timeout: 90_000 });
  await expect(warning).toContainText("you will be signed out in");
  await expectAccessible(page);
  await screenshot(page, "idle-warning");
  await page.getByRole("button", { name: "Stay signed in" }).click();
  await expect(warning).toBeHidden();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Hello, James" })).toBeVisible();
  expect(errors).toEqual([]);
});

import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { ADMIN, JAMES, PHYSICIAN, STAFF, screenshot, signIn } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

async function openJames(page: Page) {
  await page.goto("/dashboard");
  await page.locator(".patient-list").getByRole("link", { name: "James Okafor" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "James Okafor" })).toBeVisible();
}

test("the physician lets the front desk into one chart in place, they read it, and once she ends it they cannot", async ({ browser }) => {
  // Two sign-ins with second factors, which may wait for the next code.
  test.setTimeout(150_000);
  const staff = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(staff, STAFF);
  await openJames(staff);
  // By role, the front desk sees who he is, not his chart.
  await expect(staff.locator("main")).not.toContainText("Shellfish");
  await expect(staff.getByRole("region", { name: "Who else can open this chart" })).toHaveCount(0);

  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const errors: string[] = [];
  physician.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await signIn(physician, PHYSICIAN);
  await openJames(physician);
  await physician.locator("html[data-hydrated]").waitFor();
  await physician.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const access = physician.getByRole("region", { name: "Who else can open this chart" });
  await expect(access).toContainText("Nobody beyond you.");
  await access.getByText("Let a staff member in").click();
  await access.getByLabel("Staff member").selectOption({ label: "Sam Whitaker" });
  await access.getByLabel("For how many days").fill("3");
  await access.getByLabel("Why (optional)").fill("Arranging his knee imaging");
  await access.getByRole("button", { name: "Let them in" }).click();
  await expect(access.getByRole("status")).toContainText("The staff member can now open this chart.", { timeout: 15_000 });
  await expect(access).toContainText("Sam Whitaker");
  await expect(access).toContainText("Arranging his knee imaging");
  expect(await physician.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true)).toBe(true);
  await axeClean(physician);
  await screenshot(physician, "access-granted-1280");

  // The front desk now reads his chart (his allergies first).
  await openJames(staff);
  await expect(staff.locator("main")).toContainText("Shellfish");
  await axeClean(staff);
  await screenshot(staff, "access-staff-chart-1280");

  // She ends it in place; the chart closes to them at once.
  await access.getByRole("button", { name: /End now/ }).click();
  await expect(access.getByRole("status")).toContainText("The access is ended.", { timeout: 15_000 });
  await expect(access).toContainText("ended");
  await openJames(staff);
  await expect(staff.locator("main")).not.toContainText("Shellfish");
  expect(errors).toEqual([]);
});

test("the admin opens a record in an emergency with a reason, reads it without changing it, and the physician sees why", async ({ browser }) => {
  test.setTimeout(150_000);
  const admin = await (await browser.newContext({ viewport: { width: 390, height: 900 } })).newPage();
  await signIn(admin, ADMIN);
  await admin.getByRole("link", { name: "Emergency access" }).click();
  await expect(admin.getByRole("heading", { name: "Emergency access to a record" })).toBeVisible();
  await admin.locator("html[data-hydrated]").waitFor();
  await admin.getByLabel("The patient's account email").fill(JAMES);
  await admin.getByLabel("Why you need it now").fill("short");
  await admin.getByRole("button", { name: "Open the record for an hour" }).click();
  await expect(admin.getByRole("alert")).toContainText("correct the fields");
  const why = "Paramedics need his allergies now; Dr. Marsh is in surgery";
  await admin.getByLabel("Why you need it now").fill(why);
  await admin.getByRole("button", { name: "Open the record for an hour" }).click();
  await expect(admin).toHaveURL(/\/admin\/patients\/[0-9a-f]+$/);
  await expect(admin.getByRole("heading", { level: 1, name: "James Okafor" })).toBeVisible();
  await expect(admin.locator("main")).toContainText("Shellfish");
  await expect(admin.getByRole("note")).toContainText("Emergency access: read only");
  await expect(admin.getByText("Add an allergy")).toHaveCount(0);
  await axeClean(admin);
  await screenshot(admin, "emergency-admin-390");

  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(physician, PHYSICIAN);
  // Told on the dashboard, whichever chart she opens next.
  await physician.goto("/dashboard");
  const told = physician.getByRole("region", { name: "Emergency access to your patients' records" });
  await expect(told).toContainText("James Okafor");
  await expect(told).toContainText(why);
  await axeClean(physician);
  await screenshot(physician, "emergency-dashboard-1280");
  await openJames(physician);
  const access = physician.getByRole("region", { name: "Who else can open this chart" });
  await expect(access).toContainText("Emergency access to this chart");
  await expect(access).toContainText(why);

  // James sees it too, with the reason, under Sharing.
  const patient = await (await browser.newContext({ viewport: { width: 390, height: 900 } })).newPage();
  await signIn(patient, JAMES);
  await patient.getByRole("link", { name: "Sharing" }).click();
  const letIn = patient.getByRole("region", { name: "Who else in the practice was let into your record" });
  await expect(letIn).toContainText("Emergency read");
  await expect(letIn).toContainText(why);
  await axeClean(patient);
  await screenshot(patient, "emergency-patient-390");
});

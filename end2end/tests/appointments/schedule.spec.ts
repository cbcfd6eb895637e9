import { expect, test } from "@playwright/test";
import { PHYSICIAN, screenshot, signIn } from "../support";

test("the physician changes the schedule in place: a day off added and taken back, hours that end before they start refused", async ({ page }) => {
  // Up to 30 s of it may be waiting for the next authenticator code (see enterMfaCode).
  test.setTimeout(90_000);
  await signIn(page, PHYSICIAN);
  await page.goto("/dashboard/schedule");
  await expect(page.getByRole("heading", { name: "Schedule", exact: true })).toBeVisible();
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.locator("html[data-hydrated]").waitFor();
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  // A day off far ahead (no booking test reaches it), with a note.
  const daysOff = page.getByRole("region", { name: "Days off" });
  await daysOff.getByLabel("Date").fill("2031-01-15");
  await daysOff.getByLabel("Note (optional)").fill("Conference in Lisbon");
  await daysOff.getByRole("button", { name: "Add day off" }).click();
  await expect(page.getByRole("status")).toContainText("Saved. Patients see the change at once.");
  const entry = daysOff.locator(".session-row", { hasText: "Conference in Lisbon" });
  await expect(entry).toHaveCount(1);

  // Hours that end before they start: said at the top, nothing saved.
  const hours = page.getByRole("region", { name: "Weekly hours" });
  const before = await hours.locator(".session-row").count();
  await hours.getByLabel("From").fill("10:00");
  await hours.getByLabel("To").fill("09:00");
  await hours.getByRole("button", { name: "Add hours" }).click();
  await expect(page.getByRole("alert")).toContainText("The hours must end after they start.");
  await expect(hours.locator(".session-row")).toHaveCount(before);
  await screenshot(page, "schedule-refused-1280");

  // The day off taken back.
  await entry.getByRole("button", { name: /Remove/ }).click();
  await expect(page.getByRole("status")).toContainText("Saved.");
  await expect(daysOff.locator(".session-row", { hasText: "Conference in Lisbon" })).toHaveCount(0);

  // All of it without loading a new document.
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  // The refused change answered 422, which the browser logs on its own; nothing else.
  expect(consoleErrors.filter((e) => !e.includes("status of 422"))).toEqual([]);
  expect(consoleErrors.length).toBeLessThanOrEqual(1);
});

import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { MARIA, outbox, screenshot, signIn } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** "Monday, November 30 at 9:00 am" from a slot's label ("9:00 am" + hidden ", Monday, November 30"). */
async function slotWhen(label: import("@playwright/test").Locator): Promise<string> {
  const [time, day] = (await label.innerText()).split("\n").map((part) => part.trim());
  return `${day.replace(/^,\s*/, "")} at ${time}`;
}

test("a patient books an office visit, gets the confirmation, moves the visit and cancels it", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 390, height: 900 });
  await signIn(page, MARIA);
  await page.getByRole("link", { name: "Book a visit" }).first().click();
  await expect(page.getByRole("heading", { name: "Book a visit" })).toBeVisible();
  await expect(page.getByText("Times are in Eastern Time.")).toBeVisible();
  await axeClean(page);
  // From here on the portal is one page (an SPA): booking, moving, cancelling and moving
  // between pages happen without loading a new document. A mark on the window would be lost
  // by any document load; it is checked at the end.
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.locator("html[data-hydrated]").waitFor();
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const sameDocument = () => page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
  // A time on the third day listed (at least a day away, so it can be moved online), chosen by
  // its label as a screen reader hears it.
  const day = page.locator(".slot-day").nth(2);
  await day.locator("summary").click();
  const when = await slotWhen(day.locator(".slot label").first());
  await day.getByRole("radio").first().check();
  await page.getByLabel("What is the visit about?").fill("Annual physical");
  await screenshot(page, "book-visit-390");
  await page.getByRole("button", { name: "Book this visit" }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?booked=1$/);
  await expect(page.getByRole("status")).toContainText("Your visit is booked");
  const visits = page.locator(".visit-list:not(.visit-list-past) > li");
  await expect(visits.filter({ hasText: when })).toHaveCount(1);
  await screenshot(page, "my-visits-390");

  // The confirmation is in the outbox, with the calendar entry and without the reason.
  await expect.poll(() => outbox(5)).toMatch(/subject: Your visit is booked: /);
  const mail = outbox(5);
  expect(mail).toContain(`to ${MARIA}`);
  expect(mail).toContain("[attached: visit.ics (text/calendar");
  expect(mail).toContain("BEGIN:VEVENT");
  expect(mail).not.toContain("Annual physical");

  // Move it to a later time.
  const before = await visits.count();
  await visits.filter({ hasText: when }).getByRole("link", { name: /Move to another time/ }).click();
  await expect(page.getByRole("heading", { name: "Choose a new time" })).toBeVisible();
  await axeClean(page);
  const later = page.locator(".slot-day").nth(4);
  await later.locator("summary").click();
  const newWhen = await slotWhen(later.locator(".slot label").first());
  await later.getByRole("radio").first().check();
  await page.getByRole("button", { name: "Move my visit to this time" }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?moved=1$/);
  await expect(page.getByRole("status")).toContainText("Your visit is moved");
  await expect(visits).toHaveCount(before);
  await expect(visits.filter({ hasText: when })).toHaveCount(0);
  await expect(visits.filter({ hasText: newWhen })).toHaveCount(1);
  await expect.poll(() => outbox(5)).toMatch(/subject: Your visit was moved: /);

  // And cancel it: free, more than 24 hours ahead, in place: the list read again.
  await visits.filter({ hasText: newWhen }).getByRole("button", { name: /Cancel visit/ }).click();
  await expect(page.getByRole("status")).toContainText("Your visit is cancelled, free of charge");
  await expect(visits).toHaveCount(before - 1);
  await expect(page.locator(".visit-list-past > li").filter({ hasText: "Cancelled" })).toHaveCount(1);
  // The address no longer says "moved" (a reload would not say it again).
  await expect(page).toHaveURL(/\/portal\/visits$/);

  // The notification centre is one click away and says what will appear there; moving there is
  // client-side too.
  await page.getByRole("link", { name: /^Notifications/ }).click();
  await expect(page.getByRole("heading", { name: "Notifications" })).toBeVisible();
  await axeClean(page);
  await screenshot(page, "notifications-390");
  // On to the membership, and back: the back button works inside the app.
  await page.getByRole("link", { name: "Membership" }).first().click();
  await expect(page.getByRole("heading", { name: "My membership" })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("heading", { name: "Notifications" })).toBeVisible();
  // Book, move, cancel, notifications, membership: all in the one document loaded at the start.
  expect(await sameDocument()).toBe(true);
  expect(consoleErrors).toEqual([]);
});

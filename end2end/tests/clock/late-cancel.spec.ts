import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { CLOCK_DATA, MARIA, screenshot, signIn } from "../support";

// These tests move the server's clock: they run one after the other on the second server.
const CLOCK_URL = `http://127.0.0.1:${process.env.E2E_CLOCK_PORT ?? 3102}`;
test.use({ baseURL: CLOCK_URL });
test.describe.configure({ mode: "serial" });

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Moves the server's time to `to` (development only). */
async function moveClock(page: Page, to: Date | null) {
  const response = await page.request.post(`${CLOCK_URL}/dev/clock`, {
    form: { to: to ? to.toISOString() : "" },
    headers: { Origin: CLOCK_URL },
  });
  expect(response.status()).toBe(200);
}

test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await moveClock(page, null);
  await page.close();
});

test("a member sees each visit's terms before booking and cancels inside 24 hours on the terms shown", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 390, height: 900 });
  await signIn(page, MARIA, CLOCK_DATA);

  // Maria is a Complete member: office visits are included; a home visit costs $150, said
  // before she books, on the button too.
  await page.goto("/portal/book?type=home_visit");
  await expect(page.locator(".booking-terms")).toContainText(
    "Home visits are not included in the Complete membership: this one costs $150",
  );
  await expect(page.getByRole("button", { name: "Book this visit ($150)" })).toBeVisible();
  await axeClean(page);
  await screenshot(page, "book-home-visit-fee-390");

  await page.goto("/portal/book?type=in_person");
  await expect(page.locator(".booking-terms")).toContainText("Included in your Complete membership.");
  await expect(page.getByText("Complete members book from today, up to 60 days ahead.")).toBeVisible();
  const first = page.locator(".slot-day").first();
  const radio = first.getByRole("radio").first();
  const startsAt = new Date((await radio.getAttribute("value")) as string);
  await radio.check();
  await page.getByLabel("What is the visit about?").fill("Sore throat");
  await page.getByRole("button", { name: "Book this visit" }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?booked=1$/);

  // Three hours before the visit (the clock moves; the session from days ago is over).
  await moveClock(page, new Date(startsAt.getTime() - 3 * 3600 * 1000));
  await signIn(page, MARIA, CLOCK_DATA);
  await page.goto("/portal/visits");
  const card = page.locator(".visit-list:not(.visit-list-past) > li").first();
  await expect(card).toContainText(
    "Cancelling now, less than 24 hours ahead, costs the $40 late-cancellation fee, billed with your next membership payment.",
  );
  await expect(card.getByRole("link", { name: /Move to another time/ })).toHaveCount(0);
  await axeClean(page);
  await screenshot(page, "late-cancel-terms-390");
  await card.getByRole("button", { name: /Cancel on these terms/ }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?cancelled=late$/);
  await expect(page.getByRole("status")).toContainText("on the late-cancellation terms you confirmed");
  await expect(page.locator(".visit-list-past > li").first()).toContainText("Cancelled late: late-cancellation fee");
  await screenshot(page, "late-cancelled-390");
});

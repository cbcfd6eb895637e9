import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { outbox, screenshot, uniqueEmail } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** The confirmation link emailed to `email` (the newest one), once it is in the outbox. */
async function confirmationLink(email: string): Promise<string> {
  await expect.poll(() => outbox(20)).toContain(`to ${email}`);
  const mail = outbox(20);
  const blocks = mail.split("-".repeat(72));
  const mine = blocks.filter((b) => b.includes(email) && b.includes("/join/confirm?token="));
  const text = mine.length > 0 ? mine[0] : mail;
  const match = text.match(/https?:\/\/[^\s]+\/join\/confirm\?token=[A-Za-z0-9_-]+/);
  if (!match) throw new Error(`no confirmation link for ${email} in:\n${mail}`);
  return new URL(match[0]).pathname + new URL(match[0]).search;
}

async function fillCard(page: Page, number: string) {
  await page.getByLabel("Card number").fill(number);
  await page.getByLabel("Expiry (MM / YY)").fill("12 / 34");
  await page.getByLabel("Security code").fill("123");
  await page.getByLabel("Name on card").fill("Ana Ruiz");
}

test("a visitor joins, confirms the email, signs in, is declined once, pays with the test card and is an active member", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 390, height: 900 });
  const email = uniqueEmail("ana");
  await page.goto("/memberships");
  await page.getByRole("link", { name: "Join Complete" }).click();
  await expect(page.getByRole("heading", { name: "Join with the Complete membership" })).toBeVisible();

  // A first try with mistakes: the page says what to fix and keeps what was typed.
  await page.getByLabel("Legal name (as on your ID)").fill("Ana Ruiz");
  await page.getByLabel("Date of birth").fill("1980-02-29");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Mobile phone").fill("call me");
  await page.getByLabel("Street address").fill("12 Pine St");
  await page.getByLabel("City or town").fill("Portland");
  await page.getByLabel("State").fill("ME");
  await page.getByLabel("ZIP code").fill("04101");
  await page.getByLabel("Name", { exact: true }).fill("Luis Ruiz");
  await page.getByLabel("Relationship to you").fill("Husband");
  await page.getByLabel("Phone", { exact: true }).fill("207-555-0102");
  await page.getByLabel("Choose a password").fill("lantern harbor quietly 42");
  await page.getByRole("button", { name: "Join and confirm my email" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Please correct" })).toContainText("Please correct 3 fields");
  await expect(page.getByLabel("Street address")).toHaveValue("12 Pine St");
  await expect(page.getByText("A phone number may contain only digits")).toBeVisible();
  await axeClean(page);
  await screenshot(page, "join-errors-390");

  await page.getByLabel("Mobile phone").fill("(207) 555-0101");
  await page.getByLabel(/membership agreement/).check();
  await page.getByLabel(/notice of privacy practices/).check();
  await page.getByLabel("Choose a password").fill("lantern harbor quietly 42");
  await page.getByRole("button", { name: "Join and confirm my email" }).click();

  // The same page whether or not the address already has an account: check your email.
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await axeClean(page);
  await screenshot(page, "join-check-email-390");
  await page.goto(await confirmationLink(email));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByRole("heading", { name: "Your email address is confirmed" })).toBeVisible();
  await page.getByRole("link", { name: "Continue to my membership" }).click();

  // Sign in with the password chosen on the form, then pay.
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill("lantern harbor quietly 42");
  await page.getByRole("button", { name: "Sign in" }).click();
  // Once the page is live, the button opens the processor's page from the browser (the
  // server function answers with its address).
  await page.locator("html[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Pay $199 and start my membership" }).click();

  // The processor's page: a declined card says so and can be retried.
  await expect(page.getByRole("heading", { name: "Start your membership" })).toBeVisible();
  await expect(page.getByText("Test mode: no real money moves")).toBeVisible();
  await axeClean(page);
  await fillCard(page, "4000 0000 0000 0002");
  await page.getByRole("button", { name: "Pay $199" }).click();
  await expect(page.getByRole("alert")).toContainText("Your card was declined");
  await screenshot(page, "checkout-declined-390");
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay $199" }).click();

  // Back in the portal: paid and confirmed, so active at once.
  await expect(page).toHaveURL(/\/portal\/membership\?paid=1$/);
  await expect(page.getByRole("heading", { name: "Your membership is active" })).toBeVisible();
  await expect(page.locator(".invoice-list > li")).toHaveCount(1);
  await expect(page.locator(".invoice-list")).toContainText("Paid");
  await axeClean(page);
  await screenshot(page, "membership-active-390");
  // From here each change runs in place: no new document.
  await page.locator("html[data-hydrated]").waitFor();
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  // Upgrading says what it costs today before the member presses; cancelling says when it ends.
  const upgrade = page.locator(".plan-option").filter({ hasText: "Family, billed monthly" });
  await expect(upgrade).toContainText(/You pay \$\d+(\.\d\d)? now for the rest of this period, then \$349 a month\./);
  await upgrade.getByRole("button", { name: "Upgrade to Family now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your new membership has started" })).toBeVisible();
  await expect(page.locator(".summary-list")).toContainText("Family");
  await expect(page.locator(".invoice-list > li")).toHaveCount(2);
  await page.getByRole("button", { name: /^Cancel my membership \(ends / }).click();
  await expect(page.getByText(/^Your membership ends on /)).toBeVisible();
  await axeClean(page);
  await screenshot(page, "membership-changes-390");
  await page.getByRole("button", { name: "Keep my membership" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your membership continues as it is" })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

  // The receipt and the welcome go out from the job worker within seconds.
  await expect.poll(() => outbox(20), { timeout: 20_000 }).toMatch(/subject: Your receipt from Harbor Street Medicine \(\d{4}-\d{5}\)/);
  await expect.poll(() => outbox(20), { timeout: 20_000 }).toContain("subject: Welcome to Harbor Street Medicine");
});

import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { CLOCK_DATA, clockOutbox, JAMES, MARIA, screenshot, signIn, uniqueEmail } from "../support";

// These tests move the server's clock: they run one after the other on the second server.
const CLOCK_URL = `http://127.0.0.1:${process.env.E2E_CLOCK_PORT ?? 3102}`;
test.use({ baseURL: CLOCK_URL });
test.describe.configure({ mode: "serial" });

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Moves the server's time to `to` (development only; forward only in these tests). */
async function moveClock(page: Page, to: Date) {
  const response = await page.request.post(`${CLOCK_URL}/dev/clock`, {
    form: { to: to.toISOString() },
    headers: { Origin: CLOCK_URL },
  });
  expect(response.status()).toBe(200);
}

/** The server's time. */
async function serverNow(page: Page): Promise<Date> {
  const response = await page.request.get(`${CLOCK_URL}/dev/clock`);
  return new Date((await response.json()).now);
}

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

async function fillCard(page: Page, number: string) {
  await page.getByLabel("Card number").fill(number);
  await page.getByLabel("Expiry (MM / YY)").fill("12 / 34");
  await page.getByLabel("Security code").fill("123");
  await page.getByLabel("Name on card").fill("Ana Ruiz");
}

/** The emails to `email` in the clock server's outbox whose subject contains `subject`. */
function emailsTo(email: string, subject: string): number {
  return clockOutbox(200)
    .split("-".repeat(72))
    .filter((block) => block.includes(`to ${email}`) && block.includes(subject)).length;
}

const PASSWORD = "lantern harbor quietly 42";

async function signInAs(page: Page, email: string) {
  await page.goto("/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal/);
}

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
  await moveClock(page, new Date(startsAt.getTime() - 3 * HOUR));
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
  await expect(page.getByRole("status")).toContainText("on the late-cancellation terms you confirmed");
  await expect(page.locator(".visit-list-past > li").first()).toContainText("Cancelled late: late-cancellation fee");
  await screenshot(page, "late-cancelled-390");
});

test("a renewal that fails is retried after 1, 3 and 5 days, then suspends, and a new card reactivates", async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 390, height: 900 });
  const email = uniqueEmail("dunning");
  await page.goto("/join?tier=complete");
  await page.getByLabel("Legal name (as on your ID)").fill("Ana Ruiz");
  await page.getByLabel("Date of birth").fill("1980-02-29");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Mobile phone").fill("(207) 555-0101");
  await page.getByLabel("Street address").fill("12 Pine St");
  await page.getByLabel("City or town").fill("Portland");
  await page.getByLabel("State").fill("ME");
  await page.getByLabel("ZIP code").fill("04101");
  await page.getByLabel("Name", { exact: true }).fill("Luis Ruiz");
  await page.getByLabel("Relationship to you").fill("Husband");
  await page.getByLabel("Phone", { exact: true }).fill("207-555-0102");
  await page.getByLabel(/membership agreement/).check();
  await page.getByLabel(/notice of privacy practices/).check();
  await page.getByLabel("Choose a password").fill(PASSWORD);
  await page.getByRole("button", { name: "Join and confirm my email" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await expect.poll(() => emailsTo(email, "/join/confirm?token="), { timeout: 20_000 }).toBe(1);
  const link = clockOutbox(200)
    .split("-".repeat(72))
    .filter((b) => b.includes(`to ${email}`))
    .map((b) => b.match(/https?:\/\/[^\s]+\/join\/confirm\?token=[A-Za-z0-9_-]+/))
    .find((m) => m)?.[0];
  expect(link).toBeTruthy();
  await page.goto(new URL(link as string).pathname + new URL(link as string).search);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.getByRole("link", { name: "Continue to my membership" }).click();
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Pay $199 and start my membership" }).click();
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay $199" }).click();
  await expect(page).toHaveURL(/\/portal\/membership\?paid=1$/);
  await expect(page.getByRole("heading", { name: "Your membership is active" })).toBeVisible();

  // The member's bank starts refusing the card on file (0341: saved fine, every charge fails).
  await page.getByRole("button", { name: "Update my card" }).click();
  await fillCard(page, "4000 0000 0000 0341");
  await page.getByRole("button", { name: "Save card" }).click();
  await expect(page).toHaveURL(/\/portal\/membership/);

  // A month later the renewal fails: past due, emailed, the next try announced.
  const failed = "did not go through";
  await moveClock(page, new Date((await serverNow(page)).getTime() + 32 * DAY));
  await expect.poll(() => emailsTo(email, failed), { timeout: 20_000 }).toBe(1);
  await signInAs(page, email);
  await page.goto("/portal/membership");
  await expect(page.getByRole("heading", { name: "Your last payment did not go through" })).toBeVisible();
  await expect(page.getByText(/We will try your card again on /)).toBeVisible();
  await screenshot(page, "membership-past-due-390");
  const firstFailure = await serverNow(page);

  // The retries after 1 and 3 days fail and are reported; after 5 days, suspended.
  for (const [days, emails] of [
    [1, 2],
    [3, 3],
  ]) {
    await moveClock(page, new Date(firstFailure.getTime() + days * DAY + HOUR));
    await expect.poll(() => emailsTo(email, failed), { timeout: 20_000 }).toBe(emails);
  }
  await moveClock(page, new Date(firstFailure.getTime() + 5 * DAY + HOUR));
  await expect.poll(() => emailsTo(email, "suspended"), { timeout: 20_000 }).toBe(1);
  await signInAs(page, email);
  await page.goto("/portal/membership");
  await expect(page.getByRole("heading", { name: "Your membership is suspended" })).toBeVisible();
  await page.goto("/portal/book");
  await expect(page.getByText("Booking visits is part of an active membership")).toBeVisible();
  await page.goto("/portal/membership");
  await axeClean(page);
  await screenshot(page, "membership-suspended-390");

  // A working card is charged at once and the membership is active again.
  await page.getByRole("button", { name: "Update my card and pay now" }).click();
  await fillCard(page, "4242 4242 4242 4242");
  await page.getByRole("button", { name: "Save card" }).click();
  await expect(async () => {
    await page.goto("/portal/membership");
    await expect(page.getByRole("heading", { name: "Your membership is active" })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator(".invoice-list")).not.toContainText("Payment failed");
  await expect(page.locator(".invoice-list")).not.toContainText("Open");
  await screenshot(page, "membership-reactivated-390");
});

test("a full day's waitlist: a freed home visit is held for the member waiting, who books it in one press", async ({ browser }) => {
  test.setTimeout(90_000);
  // Two people at once: each in their own browser context.
  const options = { baseURL: CLOCK_URL, viewport: { width: 390, height: 900 } };
  const jamesContext = await browser.newContext(options);
  const mariaContext = await browser.newContext(options);
  const james = await jamesContext.newPage();
  const maria = await mariaContext.newPage();
  await signIn(james, JAMES, CLOCK_DATA);
  await signIn(maria, MARIA, CLOCK_DATA);

  // James takes both home visits of the first day offered ($150 each, accepted on the button).
  await james.goto("/portal/book?type=home_visit");
  const day = james.locator(".slot-day").first();
  const dayName = ((await day.locator("summary").innerText()).split("·")[0] ?? "").trim();
  const times = await day.getByRole("radio").evaluateAll((radios) => radios.map((r) => (r as HTMLInputElement).value));
  expect(times.length).toBeGreaterThan(0);
  for (const time of times) {
    await james.goto("/portal/book?type=home_visit");
    await james.locator(`input[value="${time}"]`).check({ force: true });
    await james.getByLabel("What is the visit about?").fill("Hard to travel this week");
    await james.getByRole("button", { name: "Book this visit ($150)" }).click();
    await expect(james).toHaveURL(/\/portal\/visits\?booked=1$/);
  }

  // The day is full: Maria joins its waitlist.
  await maria.goto("/portal/book?type=home_visit");
  await maria.locator("summary", { hasText: "The day you want is full? Join its waitlist" }).click();
  await maria.getByLabel("Day", { exact: true }).selectOption({ label: dayName });
  await maria.getByRole("button", { name: "Join the waitlist" }).click();
  await expect(maria).toHaveURL(/\/portal\/visits\?waitlisted=1/);
  await expect(maria.locator("#waitlist + .visit-list")).toContainText(`Waiting for a time on ${dayName}`);

  // James cancels one (free, days ahead): it is held for Maria, who is told in the portal.
  const jamesVisits = james.locator(".visit-list > li").filter({ hasText: "Home visit" });
  await james.goto("/portal/visits");
  await jamesVisits.first().getByRole("button", { name: /Cancel visit/ }).click();
  await expect(james.getByRole("status")).toContainText("cancelled, free of charge");

  await maria.goto("/portal/visits");
  const offer = maria.locator(".waitlist-offer");
  await expect(offer).toContainText(`A time opened up: Home visit on ${dayName}`);
  await expect(offer).toContainText("Held for you until");
  await expect(offer).toContainText("this one costs $150");
  await axeClean(maria);
  await screenshot(maria, "waitlist-offer-390");
  await expect.poll(() => clockOutbox(40)).toMatch(/subject: A time opened up for you at Harbor Street Medicine/);
  await offer.getByLabel("What is the visit about?").fill("Knee check after the fall");
  await offer.getByRole("button", { name: "Book this time ($150)" }).click();
  await expect(maria.getByRole("status")).toContainText("Your visit is booked");
  await expect(maria.locator(".visit-list:not(.visit-list-past) > li").filter({ hasText: "Home visit" })).toContainText(dayName);
  await expect(maria.locator(".waitlist-offer")).toHaveCount(0);
  await jamesContext.close();
  await mariaContext.close();
});

/** "Friday, December 11" and "12:00 PM", as the practice (Eastern Time) says a time in emails. */
function practiceWords(at: Date): { day: string; time: string } {
  const part = (options: Intl.DateTimeFormatOptions, type: string) =>
    new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", ...options })
      .formatToParts(at)
      .find((p) => p.type === type)?.value ?? "";
  const day = `${part({ weekday: "long" }, "weekday")}, ${part({ month: "long" }, "month")} ${part({ day: "numeric" }, "day")}`;
  const clock = { hour: "numeric", minute: "2-digit", hour12: true } as const;
  const time = `${part(clock, "hour")}:${part(clock, "minute")} ${part(clock, "dayPeriod")}`;
  return { day, time };
}

test("reminders arrive as the clock moves: an email a week before, a text the day before, a live notification two hours before", async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 390, height: 900 });
  await signIn(page, JAMES, CLOCK_DATA);

  // James books a video visit more than a week ahead.
  const now = await serverNow(page);
  await page.goto("/portal/book?type=telemedicine");
  // (Days after the first two are folded: open the day of the time chosen.)
  const radios = page.locator('input[type=radio][name="starts_at"]');
  const values = await radios.evaluateAll((all) => all.map((r) => (r as HTMLInputElement).value));
  const chosen = values.find((v) => new Date(v).getTime() > now.getTime() + 8 * DAY);
  expect(chosen, "a video visit more than 8 days ahead").toBeTruthy();
  const startsAt = new Date(chosen as string);
  const radio = page.locator(`input[type=radio][value="${chosen}"]`);
  const folded = page.locator("details.slot-day", { has: radio });
  if ((await folded.getAttribute("open")) === null) await folded.locator("summary").click();
  await radio.check();
  await page.getByLabel("What is the visit about?").fill("Blood pressure readings");
  await page.getByRole("button", { name: "Book this visit" }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?booked=1$/);
  const { day, time } = practiceWords(startsAt);
  const reminderEmails = () => emailsTo(JAMES, `Reminder: your visit on ${day} at ${time}`);
  const reminderTexts = () =>
    clockOutbox(200).split("\n").filter((line) => line.includes(`reminder of your visit tomorrow, ${day} at ${time}`)).length;
  expect(reminderEmails()).toBe(0);

  // A week before: the email reminder, and no text yet.
  await moveClock(page, new Date(startsAt.getTime() - 7 * DAY + 60_000));
  await expect.poll(reminderEmails, { timeout: 20_000 }).toBe(1);
  expect(reminderTexts()).toBe(0);

  // The day before: the text (date, time and practice only).
  await moveClock(page, new Date(startsAt.getTime() - DAY + 60_000));
  await expect.poll(reminderTexts, { timeout: 20_000 }).toBe(1);
  expect(reminderEmails()).toBe(1);

  // Two hours before, with the portal open: the notification arrives live in the header.
  await moveClock(page, new Date(startsAt.getTime() - 2 * HOUR - 60_000));
  await signIn(page, JAMES, CLOCK_DATA);
  // (Opening the centre reads what earlier visits of his left there.)
  await page.goto("/portal/notifications");
  await page.goto("/portal/visits");
  const notifications = page.getByRole("link", { name: /^Notifications/ });
  await expect(notifications).not.toContainText("unread");
  await moveClock(page, new Date(startsAt.getTime() - 2 * HOUR + 60_000));
  await expect(notifications).toContainText("1 unread", { timeout: 20_000 });
  await screenshot(page, "reminder-arrived-390");
  await notifications.click();
  await expect(page.locator(".notification.unread")).toContainText("Your visit is coming up");
  await expect(page.locator(".notification.unread")).toContainText(`Your visit with Harbor Street Medicine is today, ${day} at ${time}`);
  await axeClean(page);

  // Each went out once: moving on repeats none of them.
  await moveClock(page, new Date(startsAt.getTime() - HOUR));
  await page.waitForTimeout(2_500);
  expect(reminderEmails()).toBe(1);
  expect(reminderTexts()).toBe(1);
});

test("a message left unread five minutes brings the physician a notice that holds none of it", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, MARIA, CLOCK_DATA);
  const subject = `Rash on my arm ${Date.now()}`;
  const words = "It is itchy and spreading since Sunday.";
  await page.goto("/portal/messages/new");
  await page.getByLabel("Subject").fill(subject);
  await page.getByLabel("Message").fill(words);
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("heading", { level: 1, name: subject })).toBeVisible();
  const notices = () => emailsTo("dr.marsh@harborstreetmedicine.example", "A new secure message from Harbor Street Medicine");
  const before = notices();

  // Five minutes unread: the physician is told, by email, with none of it.
  await moveClock(page, new Date((await serverNow(page)).getTime() + 6 * 60_000));
  await expect.poll(notices, { timeout: 20_000 }).toBe(before + 1);
  const notice = clockOutbox(200)
    .split("-".repeat(72))
    .filter((block) => block.includes("to dr.marsh@harborstreetmedicine.example") && block.includes("A new secure message from"))
    .pop() as string;
  expect(notice).toContain("You have a new secure message from Harbor Street Medicine. Sign in to read it:");
  for (const secret of [subject, "itchy", "spreading", "Maria", "Lopez", "Rash"]) {
    expect(notice.toLowerCase()).not.toContain(secret.toLowerCase());
  }
});

import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { MARIA, outbox, PHYSICIAN, screenshot, signIn } from "../support";

/** A real PNG (one pixel), as a phone's photo would be. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Marks the document, to check later that nothing reloaded it. */
async function mark(page: Page) {
  await page.locator("html[data-hydrated]").waitFor();
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
}

test("a patient writes to the practice, the physician's open inbox shows it arrive, she replies, and each sees the other live", async ({ browser }) => {
  // The physician's second factor may wait for the next code.
  test.setTimeout(150_000);
  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(physician, PHYSICIAN);
  await physician.getByRole("navigation", { name: "Your areas" }).getByRole("link", { name: /^Messages/ }).click();
  await expect(physician.getByRole("heading", { level: 1, name: "Messages" })).toBeVisible();
  await mark(physician);
  const nav = physician.getByRole("navigation", { name: "Your areas" });
  const waiting = async () => Number((await nav.getByRole("link", { name: /^Messages/ }).innerText()).replace(/\D+/g, "") || "0");
  // The demo practice's inbox has the demo patients' conversations.
  await expect(physician.getByRole("list", { name: "Conversations" })).toContainText("Knee after the weekend run");
  const before = await waiting();

  const maria = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const errors: string[] = [];
  maria.on("console", (m) => {
    if (m.type() === "error" && !/status of 422/.test(m.text())) errors.push(m.text());
  });
  await signIn(maria, MARIA);
  await maria.getByRole("navigation", { name: "Your areas" }).getByRole("link", { name: /^Messages/ }).click();
  await maria.getByRole("link", { name: "New message" }).click();
  await mark(maria);
  // Not for emergencies, and when the practice answers.
  const note = maria.getByRole("note");
  await expect(note).toContainText("call 911");
  await expect(note).toContainText("answer within one business day");
  // Sent empty: what to fix, in place.
  await maria.getByRole("button", { name: "Send" }).click({ noWaitAfter: true });
  await maria.getByLabel("Subject").fill(" ");
  await maria.getByLabel("Message").fill(" ");
  await maria.evaluate(() => document.querySelectorAll("input,textarea").forEach((e) => e.removeAttribute("required")));
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(maria.getByRole("alert").first()).toContainText("Please correct the fields marked below.");
  await expect(maria.getByText("Give your message a subject.")).toBeVisible();
  await axeClean(maria);
  await screenshot(maria, "messages-compose-390");

  const subject = `Refill ${Date.now()}`;
  await maria.getByLabel("Subject").fill(subject);
  await maria.getByLabel("Message").fill("Could I get a refill of my lisinopril before Friday?");
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(maria.getByRole("heading", { level: 1, name: subject })).toBeVisible();
  const thread = maria.getByRole("list", { name: "Messages" });
  await expect(thread).toContainText("Could I get a refill of my lisinopril before Friday?");
  await expect(thread).toContainText("Sent · not read yet");
  expect(await sameDocument(maria)).toBe(true);

  // The physician's inbox, open all along, shows it, and the header counts it.
  const inbox = physician.getByRole("list", { name: "Conversations" });
  await expect(inbox.getByRole("link", { name: new RegExp(subject) })).toBeVisible({ timeout: 10_000 });
  await expect(inbox).toContainText("Maria Lopez");
  await expect.poll(waiting).toBe(before + 1);
  expect(await sameDocument(physician)).toBe(true);
  await axeClean(physician);
  await screenshot(physician, "messages-inbox-1280");

  // She opens it; Maria sees it read, without a reload.
  await inbox.getByRole("link", { name: new RegExp(subject) }).click();
  await expect(physician.getByRole("list", { name: "Messages" })).toContainText("Could I get a refill");
  await expect(thread).toContainText("Read by Dr. Elena Marsh", { timeout: 10_000 });
  await expect.poll(waiting).toBe(before);

  // She replies; it appears on Maria's page live, and Maria's reading it shows on hers.
  await physician.getByLabel("Your message").fill("Yes, I sent it to your pharmacy this morning.");
  await physician.getByRole("button", { name: "Send" }).click();
  const hers = physician.getByRole("list", { name: "Messages" });
  await expect(hers).toContainText("Yes, I sent it to your pharmacy this morning.");
  await expect(physician.getByLabel("Your message")).toHaveValue("");
  await expect(thread).toContainText("Yes, I sent it to your pharmacy this morning.", { timeout: 10_000 });
  await expect(thread).toContainText("Dr. Elena Marsh");
  await expect(hers).toContainText("Read by Maria Lopez", { timeout: 10_000 });
  expect(await sameDocument(maria)).toBe(true);
  // Maria sends a photo of her pharmacy's label; it arrives on the physician's open page, and
  // she downloads exactly what was sent.
  await maria.getByLabel("Your message").fill("Here is the label from the pharmacy.");
  await maria.getByLabel("Attach a file (optional)").setInputFiles({ name: "pharmacy-label.png", mimeType: "image/png", buffer: PNG });
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(thread.getByRole("link", { name: "pharmacy-label" })).toBeVisible();
  await expect(maria.getByLabel("Your message")).toHaveValue("");
  const file = hers.getByRole("link", { name: "pharmacy-label" });
  await expect(file).toBeVisible({ timeout: 10_000 });
  await expect(hers).toContainText("PNG image");
  const [download] = await Promise.all([physician.waitForEvent("download"), file.click()]);
  expect(download.suggestedFilename()).toBe("pharmacy-label.png");
  const fs = await import("node:fs");
  expect(fs.readFileSync(await download.path()).equals(PNG)).toBe(true);
  // A wrong type is refused before anything is kept, and her words stay.
  await maria.getByLabel("Your message").fill("And the leaflet.");
  await maria.getByLabel("Attach a file (optional)").setInputFiles({ name: "leaflet.pdf", mimeType: "application/pdf", buffer: Buffer.from("GIF89a not a pdf") });
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(maria.getByRole("alert")).toContainText("Your message was not sent");
  await expect(maria.getByLabel("Your message")).toHaveValue("And the leaflet.");
  expect(await sameDocument(physician)).toBe(true);

  // She takes it on and, once it is settled, marks it done; the inbox's Done list has it.
  await physician.getByLabel("Looked after by").selectOption({ label: "Dr. Elena Marsh" });
  await physician.getByRole("button", { name: "Assign" }).click();
  await expect(physician.getByRole("main")).toContainText("Looked after by Dr. Elena Marsh");
  await physician.getByRole("button", { name: "Mark done" }).click();
  await expect(physician.getByRole("main")).toContainText("Marked done by the practice");
  await expect(physician.getByRole("button", { name: "Open again" })).toBeVisible();
  expect(await sameDocument(physician)).toBe(true);
  await axeClean(maria);
  await axeClean(physician);
  await screenshot(maria, "messages-conversation-390");
  await screenshot(physician, "messages-conversation-1280");
  await physician.goto("/dashboard/messages?show=done");
  await expect(physician.getByRole("list", { name: "Conversations" })).toContainText(subject);
  await axeClean(physician);
  // Search finds Maria's message by a word in it (decrypted for the reader, nothing indexed).
  await physician.getByLabel("Search messages").fill("lisinopril");
  await physician.getByRole("button", { name: "Search" }).click();
  const found = physician.getByRole("list", { name: "Messages found" });
  await expect(found).toContainText(subject);
  await expect(found).toContainText("lisinopril");
  expect(errors.filter((e) => !/status of 415/.test(e))).toEqual([]);
});

test("from Maria's chart the physician saves a template, emails her from it, and the history keeps it", async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, PHYSICIAN);
  await page.goto("/dashboard/messages/templates");
  await expect(page.getByRole("heading", { level: 1, name: "Message templates" })).toBeVisible();
  const name = `Flu shots ${Date.now()}`;
  const add = page.locator(".card").last();
  await add.getByLabel("Name").fill(name);
  await add.getByLabel("Subject (optional)").fill("Flu shots, {first_name}");
  await add.getByLabel("Words").fill("Hello {first_name}, flu shots are in: stop by any weekday morning.");
  await add.getByRole("button", { name: "Add the template" }).click();
  await expect(page.getByRole("status")).toContainText("The template is saved.");
  await expect(page.locator(`input[value="${name}"]`)).toHaveCount(1);
  await expect(add.getByLabel("Name")).toHaveValue("");
  await axeClean(page);

  // Maria's chart: the composer starts from the template, with her first name.
  await page.goto("/dashboard");
  await page.locator(".patient-list").getByRole("link", { name: "Maria Lopez" }).click();
  const hub = page.locator("#communication");
  await expect(hub.getByRole("heading", { name: "Write to Maria" })).toBeVisible();
  await mark(page);
  await hub.getByRole("link", { name }).click();
  await expect(hub.getByLabel("Subject")).toHaveValue("Flu shots, Maria");
  await expect(hub.getByRole("textbox", { name: "Message" })).toHaveValue("Hello Maria, flu shots are in: stop by any weekday morning.");
  await hub.getByRole("radio", { name: /^Email/ }).check();
  await hub.getByRole("button", { name: "Send" }).click();
  await expect(hub.getByRole("status")).toContainText("Sent");
  const history = hub.getByRole("list", { name: "Communication history" });
  await expect(history.getByRole("listitem").first()).toContainText("Flu shots, Maria");
  await expect(history.getByRole("listitem").first()).toContainText("maria.lopez@example.com");
  expect(await sameDocument(page)).toBe(true);
  // The email went out with her words and the footer, and no more.
  await expect.poll(() => outbox(20)).toContain("Hello Maria, flu shots are in");
  expect(outbox(20)).toContain("Please do not reply with health details");
  // A text too long is refused with what to fix, and nothing is lost.
  await hub.getByRole("radio", { name: /^Text message/ }).check();
  await hub.getByRole("textbox", { name: "Message" }).fill("x".repeat(500));
  await hub.getByRole("button", { name: "Send" }).click();
  await expect(hub.getByRole("alert")).toContainText("check the fields");
  await expect(hub.getByText("This can be at most 480 characters")).toBeVisible();
  await axeClean(page);
  await screenshot(page, "communication-hub-1280");
});

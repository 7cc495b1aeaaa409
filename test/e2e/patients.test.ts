// Patients in a real browser, with Chromium's fake camera: a nurse registers a
// patient with a photo taken by the camera (and later replaces it with a
// picture chosen from the device), finds them again without diacritics and by
// the phone's last digits while htmx updates the results; a doctor opens a
// treatment episode and prescribes a first dose that rule R5 refuses until a
// reason is written; the treatment card prints with its barcode; and a form
// with bad input comes back with messages next to the fields and nothing lost,
// the photo included. Last, the camera's "Chụp ảnh" button shows only while
// the camera is on.
//
// The tests of one database run in order and share the patient registered by
// the first; a test run on its own registers one for itself (without a photo).
import { randomInt } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { serviceDay } from '../../server/clock.ts';
import { code128Widths, QUIET_ZONE } from '../../views/barcode.ts';
import { artifactPath, describeE2E, FAKE_CAMERA_ARGS, login, postExpectingRedirect, VI, type Tab } from './helpers.ts';

const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const CLINIC = 'Cơ sở điều trị Methadone Ngô Quyền (HP01)';
const CLINIC_NAME = 'Cơ sở điều trị Methadone Ngô Quyền';
const CLINIC_CODE = 'HP01';
const PROVINCE = 'Thành phố Hải Phòng';
const PROVINCE_CODE = '31';
const COMMUNE = 'Phường Gia Viên';
const COMMUNE_CODE = '11359';
const COMMUNE_TYPED = 'gia vien';
/** Given names the demo's synthetic patients never have: "Nguyễn Văn An <one of these>" is this run's patient. */
const EXTRA_GIVEN = ['Khôi', 'Lộc', 'Phúc', 'Tâm', 'Thiện', 'Trí', 'Tùng', 'Vượng', 'Hiếu', 'Kiên', 'Lâm', 'Nhân', 'Quý', 'Tín', 'Hậu', 'Đông'];
/** The bound of every expect.poll here (its default, 1 s, is too short on a loaded machine). */
const POLL = { timeout: 15_000 };
const MAX_PHOTO_DATA_URL = 100_000;

const pick = <T,>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => String(randomInt(10))).join('');
const ddmmyyyy = (day: string) => `${day.slice(8)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const today = () => serviceDay(new Date(), TIME_ZONE);

interface Person {
  fullName: string;
  /** As typed, dd/mm/yyyy. */
  birthDate: string;
  sexLabel: string;
  nationalId: string;
  phone: string;
  phone2: string;
  street: string;
  formerAddress: string;
  nextOfKinName: string;
  nextOfKinPhone: string;
}

function newPerson(): Person {
  const phone = `09${digits(2)} ${digits(3)} ${digits(3)}`;
  return {
    fullName: `Nguyễn Văn An ${pick(EXTRA_GIVEN)}`,
    birthDate: `${String(randomInt(1, 29)).padStart(2, '0')}/${String(randomInt(1, 13)).padStart(2, '0')}/${randomInt(1970, 2000)}`,
    sexLabel: VI.sex_male,
    nationalId: `031${digits(9)}`,
    phone,
    phone2: '',
    street: `${randomInt(1, 300)} Hoàng Văn Thụ`,
    formerAddress: 'Quận Hồng Bàng, Hải Phòng',
    nextOfKinName: 'Nguyễn Thị Bình',
    nextOfKinPhone: `09${digits(8)}`,
  };
}

interface Registered {
  id: string;
  code: string;
  person: Person;
  hasPhoto: boolean;
}

/** The registration form's fields, by their Vietnamese labels. */
function patientForm(page: Page) {
  const field = (label: string) => page.getByLabel(label, { exact: true });
  return {
    fullName: field(VI.patient_full_name),
    birthDate: field(VI.patient_birth_date),
    sex: field(VI.patient_sex),
    nationalId: field(VI.patient_national_id),
    phone: field(VI.patient_phone),
    phone2: field(VI.patient_phone2),
    province: field(VI.patient_province),
    communeSearch: page.getByRole('searchbox', { name: VI.clinic_commune_search }),
    commune: field(VI.patient_commune),
    street: field(VI.patient_street),
    formerAddress: field(VI.patient_former_address),
    nextOfKinName: field(VI.patient_next_of_kin),
    nextOfKinPhone: field(VI.patient_next_of_kin_phone),
    homeClinic: field(VI.patient_home_clinic),
    counsellor: field(VI.patient_counsellor),
    photo: page.locator('fieldset[data-camera]'),
    photoPreview: page.locator('img[data-camera-preview]'),
    photoData: page.locator('input[type="hidden"][name="photoData"]'),
    save: page.getByRole('button', { name: VI.save, exact: true }),
  };
}

/** From anywhere, through the navigation and the "register" button, to the empty form. */
async function openRegistration(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_patients, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/patients');
  await page.getByRole('heading', { level: 1, name: VI.patients_title }).waitFor();
  await page.getByRole('link', { name: VI.patients_new, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/patients/new');
  await page.getByRole('heading', { level: 1, name: VI.patients_new }).waitFor();
}

/** The options of a select, as shown. */
const optionLabels = (select: Locator) => select.locator('option').evaluateAll((os) => os.map((o) => (o.textContent ?? '').trim()));

/** Province from the list, then the commune found by typing part of its name without diacritics (htmx reloads the options). */
async function chooseCommune(page: Page): Promise<void> {
  const f = patientForm(page);
  const loaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/places/communes' && new URL(r.url()).searchParams.get('provinceCode') === PROVINCE_CODE);
  await f.province.selectOption({ label: PROVINCE });
  expect((await loaded).status()).toBe(200);
  await expect.poll(async () => (await optionLabels(f.commune)).length, POLL).toBeGreaterThan(50);
  const searched = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === '/places/communes' && u.searchParams.get('q') === COMMUNE_TYPED;
  });
  await f.communeSearch.click();
  await f.communeSearch.pressSequentially(COMMUNE_TYPED, { delay: 30 });
  expect((await searched).status()).toBe(200);
  await expect.poll(() => optionLabels(f.commune), POLL).toEqual([VI.clinic_commune_choose, COMMUNE]);
  // The only match is chosen for the user.
  await expect.poll(() => f.commune.inputValue(), POLL).toBe(COMMUNE_CODE);
}

/** Fills every field of the registration form (the photo aside). */
async function fillRegistration(page: Page, p: Person): Promise<void> {
  const f = patientForm(page);
  await f.fullName.fill(p.fullName);
  // Typed as people type it, day first.
  await f.birthDate.click();
  await f.birthDate.pressSequentially(p.birthDate, { delay: 20 });
  await f.sex.selectOption({ label: p.sexLabel });
  await f.nationalId.fill(p.nationalId);
  await f.phone.fill(p.phone);
  await f.phone2.fill(p.phone2);
  await chooseCommune(page);
  await f.street.fill(p.street);
  await f.formerAddress.fill(p.formerAddress);
  await f.nextOfKinName.fill(p.nextOfKinName);
  await f.nextOfKinPhone.fill(p.nextOfKinPhone);
  await f.homeClinic.selectOption({ label: CLINIC });
}

/** "Bật máy ảnh", the fake camera's picture in the video, "Chụp ảnh": returns the JPEG data URL the form will send. */
async function takePhoto(page: Page): Promise<string> {
  const f = patientForm(page);
  const video = f.photo.locator('video[data-camera-video]');
  await f.photo.getByRole('button', { name: VI.patient_photo_start, exact: true }).click();
  await video.waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => {
      const v = document.querySelector<HTMLVideoElement>('video[data-camera-video]');
      return !!v && v.videoWidth > 0 && v.readyState >= 2 && !v.paused;
    },
    undefined,
    { timeout: 20_000 },
  );
  const take = f.photo.getByRole('button', { name: VI.patient_photo_take, exact: true });
  await take.waitFor({ state: 'visible' });
  await take.click();
  // The camera is off again, the picture shown in its place. (Whether "Chụp ảnh" hides again is a test of its own.)
  await video.waitFor({ state: 'hidden' });
  await f.photoPreview.waitFor({ state: 'visible' });
  const src = (await f.photoPreview.getAttribute('src')) ?? '';
  expect(src).toMatch(/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/);
  const data = await f.photoData.inputValue();
  expect(data).toBe(src);
  expect(data.length, 'the photo sent with the form, in characters').toBeLessThan(MAX_PHOTO_DATA_URL);
  // A small 3:4 portrait, as camera.js makes it.
  await expect.poll(() => f.photoPreview.evaluate((img: HTMLImageElement) => (img.complete ? [img.naturalWidth, img.naturalHeight] : null)), POLL).toEqual([300, 400]);
  return data;
}

/** Saves the registration form; returns the new patient's id and code from the page it lands on. */
async function saveRegistration(page: Page, p: Person): Promise<{ id: string; code: string }> {
  await postExpectingRedirect(page, '/patients', () => patientForm(page).save.click());
  await page.waitForURL((u) => /^\/patients\/[0-9a-f-]{36}$/.test(u.pathname));
  const id = new URL(page.url()).pathname.split('/')[2]!;
  const created = new RegExp(`^${escapeRe(VI.patient_created({ code: '@@' })).replace('@@', `(${CLINIC_CODE}-\\d{5})`)}$`);
  const flash = page.getByRole('status').filter({ hasText: created });
  await flash.waitFor({ state: 'visible' });
  const code = created.exec(((await flash.textContent()) ?? '').trim())![1]!;
  await page.getByRole('heading', { level: 1, name: p.fullName, exact: true }).waitFor();
  return { id, code };
}

/** The patient's photo on a page, once loaded: its natural size (0×0 if it failed). */
async function loadedSize(img: Locator): Promise<[number, number]> {
  await img.waitFor({ state: 'visible' });
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete), POLL).toBe(true);
  return img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight] as [number, number]);
}

/** The average colour of the middle of a loaded image. */
function middleColour(img: Locator): Promise<[number, number, number]> {
  return img.evaluate((i: HTMLImageElement) => {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const g = c.getContext('2d')!;
    g.drawImage(i, 0, 0);
    const d = g.getImageData(Math.floor(c.width / 2) - 10, Math.floor(c.height / 2) - 10, 20, 20).data;
    const sum = [0, 0, 0];
    for (let k = 0; k < d.length; k += 4) for (let ch = 0; ch < 3; ch++) sum[ch]! += d[k + ch]!;
    return sum.map((s) => Math.round(s / (d.length / 4))) as [number, number, number];
  });
}

/** A <details> of the page by its summary's exact text, opened. */
async function openDetails(page: Page, summary: string): Promise<Locator> {
  const details = page.locator('details').filter({ has: page.locator('summary', { hasText: new RegExp(`^\\s*${escapeRe(summary)}\\s*$`) }) });
  await details.waitFor({ state: 'visible' });
  if (!(await details.evaluate((d: HTMLDetailsElement) => d.open))) await details.locator('summary').click();
  await expect.poll(() => details.evaluate((d: HTMLDetailsElement) => d.open), POLL).toBe(true);
  return details;
}

/** Does `action`, which must POST to `path` and be answered `status` (a refusal shown on the page). */
async function postExpectingStatus(tab: Tab, path: string, status: number, action: () => Promise<void>): Promise<void> {
  // Chromium logs a 4xx answer as a console error: expected here.
  tab.expectHttpError(path, status);
  const answered = tab.page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path);
  await action();
  expect((await answered).status(), `POST ${path}`).toBe(status);
  await tab.page.waitForLoadState('load');
}

/** The search page's field and what it shows. */
function searchPage(page: Page) {
  return {
    q: page.getByLabel(VI.patients_search_label, { exact: true }),
    results: page.locator('section#results'),
    row: (code: string) => page.locator('section#results tbody tr').filter({ has: page.locator('code', { hasText: new RegExp(`^${escapeRe(code)}$`) }) }),
  };
}

/** Types a search and waits for htmx's answer to exactly that text. */
async function typeSearch(page: Page, text: string): Promise<void> {
  const s = searchPage(page);
  const answered = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === '/patients' && u.searchParams.get('q') === text && r.request().headers()['hx-request'] === 'true';
  });
  await s.q.fill('');
  await s.q.pressSequentially(text, { delay: 30 });
  const res = await answered;
  expect(res.status()).toBe(200);
  // Only the results come back, not a page.
  expect(await res.text()).toMatch(/^<section id="results"/);
}

describeE2E(
  'e2e: patients (registration with the camera, search, first order, card, bad input)',
  (get) => {
    let registered: Registered | null = null;

    /** The patient of the first test; registered here (no photo) when that test did not run. */
    async function thePatient(tab: Tab): Promise<Registered> {
      if (registered) return registered;
      const person = newPerson();
      await openRegistration(tab.page);
      await fillRegistration(tab.page, person);
      const { id, code } = await saveRegistration(tab.page, person);
      registered = { id, code, person, hasPhoto: false };
      return registered;
    }

    async function openPatient(tab: Tab, p: Registered): Promise<void> {
      const { page } = tab;
      await page.goto('/patients');
      await typeSearch(page, p.code);
      await searchPage(page).row(p.code).getByRole('link', { name: p.person.fullName, exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/patients/${p.id}`);
      await page.getByRole('heading', { level: 1, name: p.person.fullName, exact: true }).waitFor();
    }

    it('a nurse registers a patient with a photo from the camera, then replaces it with a picture chosen from the device', { timeout: 150_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 900 }, permissions: ['camera'] });
      const { page } = tab;
      const person = newPerson();
      await login(tab, 'nurse');
      await openRegistration(page);
      const f = patientForm(page);
      // No photo yet: the preview is empty, only the buttons show.
      expect(await f.photoPreview.isVisible()).toBe(false);
      expect(await f.photoData.inputValue()).toBe('');

      await fillRegistration(page, person);
      const photo = await takePhoto(page);
      await page.screenshot({ path: artifactPath(`patient-form-${get().driver}.png`), fullPage: true });

      const { id, code } = await saveRegistration(page, person);
      registered = { id, code, person, hasPhoto: true };
      expect(Number(code.slice(CLINIC_CODE.length + 1))).toBeGreaterThan(0);

      // The patient page: code, the photo (served by the app, loaded), what was typed.
      await page.locator('.patient-head code').filter({ hasText: code }).waitFor();
      const img = page.getByRole('img', { name: VI.patient_photo_alt({ name: person.fullName }), exact: true });
      expect(await img.getAttribute('src')).toBe(`/patients/${id}/photo`);
      expect(await loadedSize(img)).toEqual([300, 400]);
      const stored = await page.request.get(`/patients/${id}/photo`);
      expect(stored.headers()['content-type']).toBe('image/jpeg');
      const firstJpeg = await stored.body();
      // What the camera gave is what was stored.
      expect(firstJpeg.equals(Buffer.from(photo.slice(photo.indexOf(',') + 1), 'base64'))).toBe(true);
      const facts = page.getByRole('region', { name: VI.patient_identity });
      const factsText = ((await facts.textContent()) ?? '').replace(/\s+/g, ' ');
      expect(factsText).toContain(person.nationalId);
      expect(factsText).toContain(person.phone);
      expect(factsText).toContain(`${person.street}, ${COMMUNE}, ${PROVINCE}`);
      expect(factsText).toContain(person.formerAddress);
      expect(factsText).toContain(`${person.nextOfKinName} · ${person.nextOfKinPhone}`);
      const head = ((await page.locator('.patient-head').textContent()) ?? '').replace(/\s+/g, ' ');
      expect(head).toContain(person.birthDate);
      expect(head).toContain(VI.sex_male);
      expect(head).toContain(CLINIC_NAME);

      // A new photo, from a picture on the device (a PNG, 480×640, red with a white disc): shrunk to a JPEG in the page.
      const png = await page.evaluate(() => {
        const c = document.createElement('canvas');
        c.width = 480;
        c.height = 640;
        const g = c.getContext('2d')!;
        g.fillStyle = 'rgb(200, 30, 30)';
        g.fillRect(0, 0, c.width, c.height);
        g.fillStyle = '#fff';
        g.beginPath();
        g.arc(240, 160, 60, 0, 2 * Math.PI);
        g.fill();
        return c.toDataURL('image/png');
      });
      const details = await openDetails(page, VI.patient_photo_save);
      const preview = details.locator('img[data-camera-preview]');
      expect(await preview.isVisible()).toBe(false);
      await details.getByLabel(VI.patient_photo_upload, { exact: true }).setInputFiles({ name: 'anh-chan-dung.png', mimeType: 'image/png', buffer: Buffer.from(png.slice(png.indexOf(',') + 1), 'base64') });
      await preview.waitFor({ state: 'visible' });
      await expect.poll(() => preview.getAttribute('src'), POLL).toMatch(/^data:image\/jpeg;base64,/);
      const uploaded = await details.locator('input[name="photoData"]').inputValue();
      expect(uploaded).toBe(await preview.getAttribute('src'));
      expect(uploaded.length).toBeLessThan(MAX_PHOTO_DATA_URL);
      expect(await loadedSize(preview)).toEqual([300, 400]);

      await postExpectingRedirect(page, `/patients/${id}/photo`, () => details.locator('form').getByRole('button', { name: VI.patient_photo_save, exact: true }).click());
      await page.waitForURL((u) => u.pathname === `/patients/${id}`);
      await page.getByRole('status').filter({ hasText: VI.patient_photo_saved }).waitFor({ state: 'visible' });
      // The page shows the new photo, still a JPEG from /patients/<id>/photo, and red now.
      expect(await img.getAttribute('src')).toBe(`/patients/${id}/photo`);
      expect(await loadedSize(img)).toEqual([300, 400]);
      const [r, g, b] = await middleColour(img);
      expect(r, `middle colour ${[r, g, b]}`).toBeGreaterThan(150);
      expect(g).toBeLessThan(80);
      expect(b).toBeLessThan(80);
      const after = await page.request.get(`/patients/${id}/photo`);
      expect(after.headers()['content-type']).toBe('image/jpeg');
      const secondJpeg = await after.body();
      expect([...secondJpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      expect(secondJpeg.equals(firstJpeg)).toBe(false);
      expect(secondJpeg.equals(Buffer.from(uploaded.slice(uploaded.indexOf(',') + 1), 'base64'))).toBe(true);
    });

    it('the nurse finds the patient by "nguyen van an" and by the last 4 digits of the phone; htmx updates the results without reloading', { timeout: 120_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 768 } });
      const { page } = tab;
      await login(tab, 'nurse');
      const p = await thePatient(tab);
      await page.getByRole('navigation', { name: VI.nav_label }).getByRole('link', { name: VI.nav_patients, exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/patients');
      await page.getByRole('heading', { level: 1, name: VI.patients_title }).waitFor();
      const s = searchPage(page);
      // A mark on this document: a reload would lose it.
      await page.evaluate(() => ((window as unknown as { __e2eSamePage?: boolean }).__e2eSamePage = true));
      const samePage = () => page.evaluate(() => (window as unknown as { __e2eSamePage?: boolean }).__e2eSamePage === true);
      // Pages loaded (hx-push-url's history entries are not loads).
      let loads = 0;
      page.on('load', () => loads++);

      await typeSearch(page, 'nguyen van an');
      const row = s.row(p.code);
      await row.waitFor({ state: 'visible' });
      expect(await row.getByRole('link', { name: p.person.fullName, exact: true }).getAttribute('href')).toBe(`/patients/${p.id}`);
      // Every result is an "Nguyễn Văn An…".
      const names = await s.results.locator('tbody tr td:nth-child(2)').allTextContents();
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(n.trim()).toMatch(/^Nguyễn Văn An/);
      expect(await samePage()).toBe(true);
      // The address bar follows the search (hx-push-url), so Back and a reload keep it.
      await expect.poll(() => new URL(page.url()).searchParams.get('q'), POLL).toBe('nguyen van an');

      const last4 = p.person.phone.replace(/\D/g, '').slice(-4);
      await typeSearch(page, last4);
      await s.row(p.code).waitFor({ state: 'visible' });
      expect(((await s.row(p.code).textContent()) ?? '').replace(/\s+/g, ' ')).toContain(p.person.phone);
      const phones = await s.results.locator('tbody tr td:nth-child(5)').allTextContents();
      for (const ph of phones) expect(ph.replace(/\D/g, '')).toContain(last4);
      expect(await samePage()).toBe(true);
      expect(loads, 'pages loaded while searching').toBe(0);
      await expect.poll(() => new URL(page.url()).searchParams.get('q'), POLL).toBe(last4);

      // A search that finds nothing says so.
      await typeSearch(page, 'khong co ai ten nay');
      await s.results.getByText(VI.patients_none, { exact: true }).waitFor({ state: 'visible' });
      expect(await samePage()).toBe(true);
    });

    it('a doctor starts treatment today and prescribes 40 mg induction: refused by R5 without a reason (values kept), saved with one', { timeout: 150_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 900 } });
      const { page } = tab;
      await login(tab, 'doctor');
      const p = await thePatient(tab);
      await openPatient(tab, p);
      const day = today();
      await page.getByRole('region', { name: VI.order_current }).getByText(VI.order_none_today, { exact: true }).waitFor();
      // No order can be written before an episode is open.
      expect(await page.getByRole('link', { name: VI.order_new, exact: true }).count()).toBe(0);

      const enrol = await openDetails(page, VI.episode_enrol);
      const start = enrol.getByLabel(VI.episode_start, { exact: true });
      expect(await start.inputValue(), 'the start date offered').toBe(ddmmyyyy(day));
      await start.fill('');
      await start.pressSequentially(ddmmyyyy(day), { delay: 20 });
      await enrol.getByLabel(VI.episode_referral, { exact: true }).fill('Tự đến');
      await postExpectingRedirect(page, `/patients/${p.id}/episodes`, () => enrol.getByRole('button', { name: VI.episode_enrol, exact: true }).click());
      await page.waitForURL((u) => u.pathname === `/patients/${p.id}`);
      await page.getByRole('status').filter({ hasText: VI.episode_enrolled }).waitFor({ state: 'visible' });
      const episode = ((await page.getByRole('region', { name: VI.episode_current }).textContent()) ?? '').replace(/\s+/g, ' ');
      expect(episode).toContain(`${VI.episode_kind_first} · ${CLINIC_NAME} · ${VI.episode_start}: ${ddmmyyyy(day)}`);
      expect(episode).toContain(`${VI.episode_referral}: Tự đến`);

      await page.getByRole('link', { name: VI.order_new, exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/patients/${p.id}/orders/new`);
      await page.getByRole('heading', { level: 1, name: `${VI.order_new}: ${p.code} ${p.person.fullName}` }).waitFor();
      const field = (label: string) => page.getByLabel(label, { exact: true });
      await field(VI.order_phase).selectOption({ label: VI.phase_induction });
      await field(VI.order_daily_mg).fill('40');
      await field(VI.order_start).fill(ddmmyyyy(day));
      await field(VI.order_end).fill(ddmmyyyy(day));
      const prescribe = page.getByRole('button', { name: VI.order_prescribe, exact: true });
      await postExpectingStatus(tab, `/patients/${p.id}/orders`, 422, () => prescribe.click());

      // Refused: the rule and its message, in Vietnamese; the form as it was.
      const refusal = page.getByRole('alert').filter({ hasText: VI.order_refused });
      await refusal.waitFor({ state: 'visible' });
      const r5 = refusal.locator('li').filter({ has: page.locator('.badge', { hasText: /^R5$/ }) });
      await r5.waitFor({ state: 'visible' });
      const r5Text = ((await r5.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      const max = /vượt (\d+) mg/.exec(r5Text)?.[1];
      expect(max, r5Text).toBeDefined();
      expect(r5Text).toBe(`R5 ${VI.rule_first_dose_above_max({ max: Number(max) })}`);
      expect(Number(max)).toBeLessThan(40);
      expect(await field(VI.order_phase).inputValue()).toBe('induction');
      expect(await field(VI.order_daily_mg).inputValue()).toBe('40');
      expect(await field(VI.order_start).inputValue()).toBe(ddmmyyyy(day));
      expect(await field(VI.order_end).inputValue()).toBe(ddmmyyyy(day));
      expect(await field(VI.order_reason).inputValue()).toBe('');
      expect(tab.pathname()).toBe(`/patients/${p.id}/orders`);

      const reason = 'Đã dùng 40 mg/ngày tại trại, có giấy xác nhận';
      await field(VI.order_reason).fill(reason);
      await postExpectingRedirect(page, `/patients/${p.id}/orders`, () => page.getByRole('button', { name: VI.order_prescribe, exact: true }).click());
      await page.waitForURL((u) => u.pathname === `/patients/${p.id}`);
      await page.getByRole('status').filter({ hasText: VI.order_saved }).waitFor({ state: 'visible' });
      const current = page.getByRole('region', { name: VI.order_current });
      await current.waitFor();
      const currentText = ((await current.textContent()) ?? '').replace(/\s+/g, ' ');
      expect(currentText).toContain(VI.order_current);
      expect(currentText).toContain(VI.phase_induction);
      expect(currentText).toContain('40 mg = 4 ml');
      expect(currentText).toContain(`${ddmmyyyy(day)} – ${ddmmyyyy(day)}`);
      // The history keeps the reason and the rule passed with it.
      const history = ((await page.getByRole('region', { name: VI.order_history }).textContent()) ?? '').replace(/\s+/g, ' ');
      expect(history).toContain(reason);
      expect(history).toContain(`${VI.order_overrides}: R5`);
    });

    it('the treatment card: photo, name, code and its Code 128 barcode, on screen and in print; screenshots saved', { timeout: 120_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 768 } });
      const { page } = tab;
      const { driver } = get();
      await login(tab, 'doctor');
      const p = await thePatient(tab);
      await openPatient(tab, p);
      if (p.hasPhoto) expect(await loadedSize(page.locator('.patient-head img.photo'))).toEqual([300, 400]);
      await page.screenshot({ path: artifactPath(`patient-page-${driver}.png`), fullPage: true });

      await page.getByRole('link', { name: VI.patient_card, exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/patients/${p.id}/card`);
      await page.getByRole('heading', { level: 1, name: VI.card_title }).waitFor();
      expect(await page.title()).toBe(`${VI.card_title} · ${p.code} · ${VI.app_name}`);
      const card = page.getByRole('article', { name: VI.card_title });
      await card.waitFor({ state: 'visible' });
      expect((await card.locator('.tcard-name').textContent())?.trim()).toBe(p.person.fullName);
      // The code in large type (the label before it is for screen readers only).
      const codeLine = card.locator('.tcard-code');
      await codeLine.waitFor({ state: 'visible' });
      expect((await codeLine.textContent())?.replace(/\s+/g, ' ').trim()).toBe(`${VI.patient_code}: ${p.code}`);
      expect((await codeLine.locator('.visually-hidden').boundingBox())!.width).toBeLessThanOrEqual(1);
      expect(await codeLine.evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThan(20);
      expect((await card.locator('.tcard-born').textContent())?.trim()).toBe(`${VI.card_born}: ${p.person.birthDate}`);
      expect(((await card.locator('.tcard-clinic').textContent()) ?? '').trim()).toBe(CLINIC_NAME);
      if (p.hasPhoto) {
        const photo = card.getByRole('img', { name: VI.patient_photo_alt({ name: p.person.fullName }), exact: true });
        expect(await loadedSize(photo)).toEqual([300, 400]);
      }

      // The barcode: an SVG named by the code, whose bars are exactly the code's Code 128 symbols.
      const svg = card.locator('.tcard-barcode svg');
      await svg.waitFor({ state: 'visible' });
      expect(await svg.getAttribute('aria-label')).toBe(p.code);
      const bars = await svg.locator('g rect').evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('width'))]));
      const expected: number[][] = [];
      let x = QUIET_ZONE;
      code128Widths(p.code).forEach((w, i) => {
        if (i % 2 === 0) expected.push([x * 2, w * 2]);
        x += w;
      });
      expect(bars).toEqual(expected);
      const box = (await svg.boundingBox())!;
      expect(box.width).toBeGreaterThan(100);
      expect(box.height).toBeGreaterThan(20);

      const printButton = page.getByRole('button', { name: VI.card_print, exact: true });
      await printButton.waitFor({ state: 'visible' });
      await page.screenshot({ path: artifactPath(`card-${driver}.png`), fullPage: true });

      // Print: only the card, at its real size (85.6 × 54 mm at 96 px per inch).
      await page.emulateMedia({ media: 'print' });
      await printButton.waitFor({ state: 'hidden' });
      await page.locator('header.topbar').waitFor({ state: 'hidden' });
      await page.getByRole('heading', { level: 1, name: VI.card_title }).waitFor({ state: 'hidden' });
      await card.waitFor({ state: 'visible' });
      await svg.waitFor({ state: 'visible' });
      const mm = 96 / 25.4;
      const printed = (await card.boundingBox())!;
      expect(printed.width).toBeCloseTo(85.6 * mm, 0);
      expect(printed.height).toBeCloseTo(54 * mm, 0);
      await page.screenshot({ path: artifactPath(`card-print-${driver}.png`), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
      await printButton.waitFor({ state: 'visible' });
    });

    it('bad input (an 11-digit CCCD, a birth date in the future) comes back with messages by the fields; everything typed and the photo are kept', { timeout: 150_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 900 }, permissions: ['camera'] });
      const { page } = tab;
      await login(tab, 'nurse');
      await openRegistration(page);
      const f = patientForm(page);
      const good = { ...newPerson(), fullName: `Trần Thị Bé ${pick(EXTRA_GIVEN)}`, sexLabel: VI.sex_female, phone2: `02${digits(9)}` };
      const badId = digits(11);
      const futureBirth = `15/06/${Number(today().slice(0, 4)) + 1}`;
      await fillRegistration(page, { ...good, nationalId: badId, birthDate: futureBirth });
      await f.counsellor.selectOption({ index: 1 });
      const counsellor = await f.counsellor.inputValue();
      expect(counsellor).not.toBe('');
      const clinic = await f.homeClinic.inputValue();
      const photo = await takePhoto(page);

      await postExpectingStatus(tab, '/patients', 422, () => f.save.click());
      await page.getByRole('heading', { level: 1, name: VI.patients_new }).waitFor();
      await page.locator('p.form-errors').filter({ hasText: VI.form_has_errors }).waitFor({ state: 'visible' });

      // Each message next to its field, tied to it for screen readers.
      for (const [input, id, message] of [
        [f.nationalId, 'nationalId', VI.err_national_id],
        [f.birthDate, 'birthDate', VI.err_birth_future],
      ] as const) {
        const error = page.locator(`#${id}-error`);
        await error.waitFor({ state: 'visible' });
        expect((await error.textContent())?.trim()).toBe(message);
        expect(await error.getAttribute('role')).toBe('alert');
        expect(await input.getAttribute('aria-invalid')).toBe('true');
        expect((await input.getAttribute('aria-describedby'))?.split(' ')).toContain(`${id}-error`);
        // In the same field box as the input, right under it.
        expect(await error.evaluate((e, fieldId) => e.closest('.field')?.querySelector(`#${fieldId}`) !== null, id)).toBe(true);
        const inputBox = (await input.boundingBox())!;
        const errorBox = (await error.boundingBox())!;
        expect(errorBox.y).toBeGreaterThan(inputBox.y);
        expect(errorBox.y - (inputBox.y + inputBox.height)).toBeLessThan(80);
      }
      expect(VI.err_national_id).toBe('Số CCCD gồm đúng 12 chữ số.');
      expect(VI.err_birth_future).toBe('Ngày sinh không thể ở tương lai.');
      // No other field is marked.
      expect(await page.locator('form [aria-invalid="true"]').evaluateAll((es) => es.map((e) => e.id).sort())).toEqual(['birthDate', 'nationalId']);

      // Everything as typed, the wrong values too.
      expect(await f.fullName.inputValue()).toBe(good.fullName);
      expect(await f.birthDate.inputValue()).toBe(futureBirth);
      expect(await f.nationalId.inputValue()).toBe(badId);
      expect(await f.sex.inputValue()).toBe('female');
      expect(await f.phone.inputValue()).toBe(good.phone);
      expect(await f.phone2.inputValue()).toBe(good.phone2);
      expect(await f.province.inputValue()).toBe(PROVINCE_CODE);
      expect(await f.commune.inputValue()).toBe(COMMUNE_CODE);
      expect(await f.commune.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent?.trim())).toBe(COMMUNE);
      expect(await f.street.inputValue()).toBe(good.street);
      expect(await f.formerAddress.inputValue()).toBe(good.formerAddress);
      expect(await f.nextOfKinName.inputValue()).toBe(good.nextOfKinName);
      expect(await f.nextOfKinPhone.inputValue()).toBe(good.nextOfKinPhone);
      expect(await f.homeClinic.inputValue()).toBe(clinic);
      expect(await f.counsellor.inputValue()).toBe(counsellor);
      // The photo: still shown, still in the form.
      await f.photoPreview.waitFor({ state: 'visible' });
      expect(await f.photoPreview.getAttribute('src')).toBe(photo);
      expect(await loadedSize(f.photoPreview)).toEqual([300, 400]);
      expect(await f.photoData.inputValue()).toBe(photo);
      await page.screenshot({ path: artifactPath(`patient-form-errors-${get().driver}.png`), fullPage: true });

      // Nothing was registered.
      const found = await page.request.get(`/patients?q=${encodeURIComponent(good.fullName)}`);
      expect(await found.text()).toContain(VI.patients_none);

      // Corrected, it saves, with the photo taken before the refusal.
      await f.nationalId.fill(good.nationalId);
      await f.birthDate.fill('');
      await f.birthDate.pressSequentially(good.birthDate, { delay: 20 });
      const { id } = await saveRegistration(page, good);
      const stored = await page.request.get(`/patients/${id}/photo`);
      expect(stored.status()).toBe(200);
      expect((await stored.body()).equals(Buffer.from(photo.slice(photo.indexOf(',') + 1), 'base64'))).toBe(true);
      expect(await loadedSize(page.getByRole('img', { name: VI.patient_photo_alt({ name: good.fullName }), exact: true }))).toEqual([300, 400]);
      const facts = ((await page.getByRole('region', { name: VI.patient_identity }).textContent()) ?? '').replace(/\s+/g, ' ');
      expect(facts).toContain(good.nationalId);
      expect(facts).toContain(`${good.phone} · ${good.phone2}`);
    });

    it('"Chụp ảnh" shows only while the camera is on (before, a press would do nothing; after, it would not take another)', { timeout: 90_000 }, async () => {
      const tab = await get().newTab({ viewport: { width: 1024, height: 900 }, permissions: ['camera'] });
      const { page } = tab;
      await login(tab, 'nurse');
      await page.goto('/patients/new');
      const f = patientForm(page);
      const take = f.photo.locator('button[data-camera-take]');
      const shown = () => take.evaluate((b: HTMLButtonElement) => ({ hidden: b.hidden, display: getComputedStyle(b).display }));
      await page.getByRole('heading', { level: 1, name: VI.patients_new }).waitFor();
      expect(await shown(), 'before the camera is on').toEqual({ hidden: true, display: 'none' });
      await takePhoto(page);
      await expect.poll(shown, POLL).toEqual({ hidden: true, display: 'none' });
    });
  },
  { chromiumArgs: FAKE_CAMERA_ARGS },
);

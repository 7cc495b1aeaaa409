// The counter across a server restart and a power cut (issue 4, "Bad input and
// faults"; security.md "Faults"): a card shown before the restart is confirmed
// after it and recorded once; doses in flight when the process is killed are
// either recorded or not, never twice, and retrying them (same request id, as
// the page does) leaves exactly one dose per patient.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanup, DEMO_PASSWORD, HttpClient, hxPost, kindOf, nurse, stepFields } from './helpers.ts';

/** Routine demo patients (every tenth from the 8th has a gap in its history). */
const ROUTINE = Array.from({ length: 40 }, (_, i) => i).filter((i) => ![7, 8, 9].includes(i % 10)).map((i) => `HP01${i % 2 === 0 ? '' : 'A'}-${String(Math.floor(i / 2) + 1).padStart(5, '0')}`);

describe('The counter across restarts and kills', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('a card shown before a restart is confirmed after it, once; doses in flight at a SIGKILL are never lost once acknowledged nor doubled on retry', async () => {
    const dataDir = cleanup.dir('mp-counter-');
    const env = { DATA_DIR: dataDir, SEED_DEMO: 'true', DEMO_PASSWORD };

    // 1. The card before the restart.
    let server = await cleanup.start(env);
    let { client, clinic } = await nurse(server.url);
    const card = await client.get(`/counter/find?clinic=${clinic}&q=HP01-00001`);
    expect(kindOf(card.html)).toBe('give');
    const fields = stepFields(card.html);
    expect(fields.requestId).toMatch(/^[0-9a-f-]{36}$/);
    server.child.kill('SIGKILL');
    await server.exited;

    // 2. Confirmed after it: the session and the card still hold; recorded once.
    server = await cleanup.start(env);
    const again = new HttpClient(server.url);
    for (const [k, v] of client.cookies) again.cookies.set(k, v);
    await again.get('/counter');
    const check = await hxPost(again, '/counter/check', { ...fields, intoxication: 'none' });
    expect(check.status).toBe(200);
    const confirm = stepFields(check.html);
    const dose = await hxPost(again, '/counter/dose', { ...confirm, outcome: 'given' });
    expect(dose.status).toBe(200);
    expect(dose.html).toContain('class="notice ok"');
    // The same confirmation again (a retry after a lost answer): the same record, no second dose.
    const retry = await hxPost(again, '/counter/dose', { ...confirm, outcome: 'given' });
    expect(retry.status).toBe(200);
    expect(kindOf((await again.get(`/counter/find?clinic=${clinic}&q=HP01-00001`)).html)).toBe('already_dosed');

    // 3. Many counters confirming when the power goes.
    ({ client, clinic } = await nurse(server.url));
    const patients = ROUTINE.filter((c) => c.startsWith('HP01-') && c !== 'HP01-00001');
    const prepared: { code: string; form: Record<string, string> }[] = [];
    for (const code of patients) {
      const shown = await client.get(`/counter/find?clinic=${clinic}&q=${code}`);
      if (kindOf(shown.html) !== 'give') continue;
      const step = await hxPost(client, '/counter/check', { ...stepFields(shown.html), intoxication: 'none' });
      prepared.push({ code, form: { ...stepFields(step.html), outcome: 'given' } });
    }
    expect(prepared.length).toBeGreaterThanOrEqual(8);
    const acknowledged = new Set<string>();
    const sent = prepared.map(async ({ code, form }, i) => {
      await sleep(i * 15);
      try {
        const r = await hxPost(client, '/counter/dose', form);
        if (r.status === 200) acknowledged.add(code);
      } catch {
        // Cut by the kill: not acknowledged.
      }
    });
    // The power goes once the first doses are acknowledged, with the rest in flight or not yet sent.
    for (const began = Date.now(); acknowledged.size < 2 && Date.now() - began < 20_000; ) await sleep(5);
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(sent);
    expect(acknowledged.size).toBeGreaterThanOrEqual(2);

    // 4. After the restart: every acknowledged dose is there; retrying every
    // confirmation with its request id leaves exactly one dose per patient.
    server = await cleanup.start(env);
    ({ client, clinic } = await nurse(server.url));
    for (const code of acknowledged) expect(kindOf((await client.get(`/counter/find?clinic=${clinic}&q=${code}`)).html), code).toBe('already_dosed');
    for (const { form } of prepared) expect((await hxPost(client, '/counter/dose', form)).status).toBe(200);
    const csv = await client.request(`/register.csv?clinic=${clinic}`);
    const lines = (await csv.text()).split('\r\n').slice(1).filter(Boolean);
    for (const { code } of [...prepared, { code: 'HP01-00001' }]) expect(lines.filter((l) => l.includes(`,${code},`)).length, code).toBe(1);
  }, 300_000);
});

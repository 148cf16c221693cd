// What every client script needs: where Bunshin is, its key, and a tally of checks that ends the process.
export const base = process.env.BUNSHIN_URL ?? 'http://127.0.0.1:8080';
export const key = process.env.BUNSHIN_API_KEY;

export function checks(name) {
  let failures = 0;
  return {
    check(ok, what) {
      console.log((ok ? 'ok - ' : 'FAIL - ') + what);
      if (!ok) failures++;
    },
    done() {
      console.log(`${failures === 0 ? 'PASS' : 'FAIL'} ${name} ${failures} failed`);
      process.exit(failures === 0 ? 0 : 1);
    },
  };
}

/** The first served model's id, as /v1/models lists it. */
export async function firstModel() {
  const r = await fetch(base + '/v1/models', { headers: key ? { Authorization: 'Bearer ' + key } : {} });
  return (await r.json()).data[0].id;
}

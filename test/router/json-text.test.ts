// json-text.ts against the functions it stands in for: jsonString(s) must be
// JSON.stringify(s) and msText(v) must be String(Math.round(v * 1e3) / 1e3),
// for hand-picked edge cases and a seeded random corpus (seed in the message).
import t from 'tap'
import { FieldTexts, MsField, isPlain, jsonString, msText } from '../../router/src/json-text.js'
import { prng } from '../fixtures/prng.js'

const SEED = 0x5eed18

t.test('jsonString is JSON.stringify', async (t) => {
  const cases = ['', 'a', '/services/app/x?y=1&z=%20', 'rou"te', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\u001f', ' ', '~', '\u007f', 'ü', '€', '😀', '\ud800', 'a\udc00b', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36']
  for (const s of cases) t.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s))
  const rnd = prng(SEED)
  // Mostly printable ASCII, sometimes a character from each class that needs care.
  const special = ['"', '\\', '\n', '\u0001', '\u007f', 'é', '\u2028', '\ud83d', '\ude00', '😀']
  let mismatches = 0
  for (let n = 0; n < 20_000; n++) {
    let s = ''
    const len = Math.floor(rnd() * 40)
    for (let i = 0; i < len; i++) s += rnd() < 0.05 ? (special[Math.floor(rnd() * special.length)] ?? '') : String.fromCharCode(0x20 + Math.floor(rnd() * 95))
    if (jsonString(s) !== JSON.stringify(s)) mismatches++
  }
  t.equal(mismatches, 0, `seed ${SEED}`)
})

t.test('msText is String(Math.round(v * 1e3) / 1e3)', async (t) => {
  const old = (v: number): string => String(Math.round(v * 1e3) / 1e3)
  const cases = [0, -0, 1e-7, 0.0004, 0.0005, 0.001, 0.0015, 0.1, 0.12, 0.123, 0.1234, 0.1235, 1, 1.23456, 1.2, 9.9995, 10, 12.5, 999.9996, 1000, 86_400_000.25, 2 ** 31 - 0.001, 2 ** 31, 2 ** 31 + 0.5, 1e12 + 0.123, 1e15, 1e21, 1e22, -0.0004, -1, -12.5, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE]
  for (const v of cases) t.equal(msText(v), old(v), String(v))
  const rnd = prng(SEED + 1)
  let mismatches = 0
  for (let n = 0; n < 200_000; n++) {
    // Durations from sub-microsecond to weeks, spread over the magnitudes.
    const v = rnd() * 10 ** Math.floor(rnd() * 10 - 3)
    if (msText(v) !== old(v)) mismatches++
  }
  t.equal(mismatches, 0, `seed ${SEED + 1}`)
})

t.test('FieldTexts: made once per value, the same text, bounded', async (t) => {
  let made = 0
  const f = new FieldTexts((v) => {
    made++
    return `,"route":${jsonString(v)}`
  }, 3)
  for (const v of ['route', 'rou"te', 'route', '10.0.0.1:80']) t.equal(f.get(v), `,"route":${JSON.stringify(v)}`, JSON.stringify(v))
  t.equal(made, 3, 'a value seen before is looked up, not made again')
  f.get('d')
  t.equal(f.get('route'), ',"route":"route"', 'still right after the cache was full and forgotten')
  t.equal(made, 5)
})

t.test('MsField is `,"name":` + msText; isPlain only for printable ASCII with nothing to escape', async (t) => {
  const f = new MsField('durationMs')
  const rnd = prng(SEED + 2)
  let mismatches = 0
  const values = [0, -0, 0.0004, 0.0005, 999.9994, 999.9995, 1000, 1e6, -1, Number.NaN, 12.5]
  for (let n = 0; n < 100_000; n++) values.push(rnd() * 10 ** Math.floor(rnd() * 8 - 3))
  for (const v of values) if (f.text(v) !== `,"durationMs":${msText(v)}`) mismatches++
  t.equal(mismatches, 0, `seed ${SEED + 2}`)
  for (const s of ['', '/a?b=1', '~']) t.ok(isPlain(s) && JSON.stringify(s) === `"${s}"`, `plain: ${JSON.stringify(s)}`)
  for (const s of ['a"b', 'a\\b', '\u0001', 'ü', '\u007f']) t.notOk(isPlain(s), `not plain: ${JSON.stringify(s)}`)
})

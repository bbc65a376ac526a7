// Static checks of the k6 scripts in loadtest/k6 (k6 itself is not installed
// here): they type-check against @types/k6, import only k6 modules and ./lib,
// avoid syntax older k6 (0.49) cannot run, and each numbered scenario takes its
// thresholds from lib/thresholds.js (judged on empty summaries in
// k6-lib.test.ts), has a default function and a setup() that gates on GET
// /health and resolves ids through lib/targets.js.

import t from 'tap'
import ts from 'typescript'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const k6Dir = join(root, 'loadtest', 'k6')
const libDir = join(k6Dir, 'lib')

const scripts = readdirSync(k6Dir).filter((f) => /^\d{2}-[a-z0-9-]+\.js$/.test(f)).sort()
const libs = readdirSync(libDir).filter((f) => f.endsWith('.js')).sort()
const allJs = [...scripts.map((f) => join(k6Dir, f)), ...libs.map((f) => join(libDir, f))]

function parse(file: string, text = readFileSync(file, 'utf8')): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.ES2020, true, ts.ScriptKind.JS)
}

/** Syntax k6 0.49 cannot run: optional chaining, nullish coalescing, object spread. */
function forbiddenSyntax(sf: ts.SourceFile): string[] {
  const found: string[] = []
  const at = (n: ts.Node): string => {
    const { line, character } = sf.getLineAndCharacterOfPosition(n.getStart(sf))
    return `${relative(root, sf.fileName)}:${line + 1}:${character + 1}`
  }
  const visit = (n: ts.Node): void => {
    if ((ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n) || ts.isCallExpression(n)) && n.questionDotToken !== undefined) {
      found.push(`optional chaining at ${at(n)}`)
    }
    if (ts.isBinaryExpression(n) && (n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionEqualsToken)) {
      found.push(`nullish coalescing at ${at(n)}`)
    }
    if (ts.isSpreadAssignment(n)) found.push(`object spread at ${at(n)}`)
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return found
}

/** Module specifiers of static imports, re-exports, dynamic imports and require() calls. */
function importsOf(sf: ts.SourceFile): string[] {
  const out: string[] = []
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier !== undefined && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text)
    }
    if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      const arg = n.arguments[0]
      out.push(arg !== undefined && ts.isStringLiteral(arg) ? arg.text : '<dynamic>')
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return out
}

function hasExportModifier(n: ts.Node): boolean {
  return ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
}
function hasDefaultModifier(n: ts.Node): boolean {
  return ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)
}

t.test('the scenario set is complete', async (t) => {
  t.ok(scripts.length >= 5, `numbered scripts: ${scripts.join(', ')}`)
  for (const topic of ['smoke', 'http', 'ws', 'spike', 'drain']) {
    t.ok(scripts.some((s) => s.includes(topic)), `a scenario about ${topic}`)
  }
  for (const lib of ['config.js', 'stages.js', 'thresholds.js', 'verdict.js', 'session-core.js', 'targets.js']) t.ok(libs.includes(lib), `lib/${lib} exists`)
})

t.test('scripts type-check against @types/k6 (checkJs)', async (t) => {
  const configPath = join(k6Dir, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  t.equal(read.error, undefined, 'tsconfig.json parses')
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, k6Dir)
  t.same(parsed.errors, [], 'tsconfig.json is valid')
  t.equal(parsed.options.checkJs, true, 'checkJs is on')
  t.same(parsed.options.types, ['k6'], 'only the k6 types are loaded')
  for (const f of allJs) t.ok(parsed.fileNames.includes(f), `${relative(root, f)} is covered by the check`)
  const program = ts.createProgram(parsed.fileNames, parsed.options)
  const diagnostics = ts.getPreEmitDiagnostics(program)
  const messages = diagnostics.map((d) => {
    const where = d.file !== undefined && d.start !== undefined ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : ''
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
  t.same(messages, [], 'no type errors')
})

t.test('imports are only k6 modules and ./lib', async (t) => {
  for (const file of allJs) {
    const isLib = dirname(file) === libDir
    for (const spec of importsOf(parse(file))) {
      const ok = spec === 'k6' || /^k6\/[a-z0-9/-]+$/.test(spec) || (isLib ? /^\.\/[a-z0-9-]+\.js$/ : /^\.\/lib\/[a-z0-9-]+\.js$/).test(spec)
      t.ok(ok, `${relative(root, file)} imports "${spec}"`)
    }
  }
})

t.test('no syntax that k6 0.49 rejects', async (t) => {
  for (const file of allJs) t.same(forbiddenSyntax(parse(file)), [], relative(root, file))
})

t.test('the syntax scan finds real uses and ignores strings and comments', async (t) => {
  const bad = parse('bad.js', 'const a = x?.y; const b = x ?? 1; const c = { ...x }; f?.(); x ??= 2\n')
  t.equal(forbiddenSyntax(bad).length, 5, 'five uses found')
  const fine = parse('fine.js', '// a?.b ?? {...c}\nconst s = "x?.y ?? {...z}"; const arr = [...s]; f(...arr)\n')
  t.same(forbiddenSyntax(fine), [], 'strings, comments, array and call spreads are fine')
})

/** Every identifier used in the code (comments and strings excluded). */
function identifiers(sf: ts.SourceFile): string[] {
  const out: string[] = []
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) out.push(n.text)
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return out
}

/** Pure lib modules (imported by the tap tests under Node) must not import k6. */
const PURE = ['config.js', 'duration.js', 'stages.js', 'thresholds.js', 'verdict.js', 'session-core.js', 'router-api.js', 'plans.js']

t.test('pure lib modules import no k6 module (the tap tests run them under Node)', async (t) => {
  for (const name of PURE) {
    const specs = importsOf(parse(join(libDir, name)))
    t.same(specs.filter((s) => s === 'k6' || s.startsWith('k6/')), [], `lib/${name}`)
    t.same(identifiers(parse(join(libDir, name))).filter((n) => /^__(ENV|VU|ITER)$/.test(n)), [], `lib/${name} reads no k6 global`)
  }
})

t.test('each numbered scenario: header question, thresholds from lib/thresholds.js, default function, health-gated setup', async (t) => {
  const targets = readFileSync(join(libDir, 'targets.js'), 'utf8')
  t.match(targets, /\/health/, 'lib/targets.js requests /health')
  t.match(targets, /status === 200/, 'lib/targets.js requires a 200')
  t.match(targets, /fail\(/, 'lib/targets.js fails the test otherwise')
  const thresholdsLib = readFileSync(join(libDir, 'thresholds.js'), 'utf8')

  for (const name of scripts) {
    t.test(name, async (t) => {
      const sf = parse(join(k6Dir, name))
      const text = sf.getFullText()
      t.match(text.slice(0, 400), /^\/\/ \d{2} [^\n]*\n?(\/\/[^\n]*\n)*/, 'starts with a header comment')
      t.match(text.slice(0, 600), /Question:/, 'header says which question it answers')

      let thresholdsCall: string | undefined
      let hasDefault = false
      let setupBody: ts.Block | undefined
      for (const st of sf.statements) {
        if (ts.isVariableStatement(st) && hasExportModifier(st)) {
          for (const d of st.declarationList.declarations) {
            if (ts.isIdentifier(d.name) && d.name.text === 'options' && d.initializer !== undefined && ts.isObjectLiteralExpression(d.initializer)) {
              for (const p of d.initializer.properties) {
                if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'thresholds' && ts.isCallExpression(p.initializer) && ts.isIdentifier(p.initializer.expression)) {
                  thresholdsCall = p.initializer.expression.text
                }
              }
            }
          }
        }
        if (ts.isFunctionDeclaration(st) && hasExportModifier(st) && hasDefaultModifier(st)) hasDefault = true
        if (ts.isExportAssignment(st) && !st.isExportEquals) hasDefault = true
        if (ts.isFunctionDeclaration(st) && hasExportModifier(st) && st.name?.text === 'setup') setupBody = st.body
      }
      t.ok(thresholdsCall !== undefined, 'options.thresholds is a call of a lib/thresholds.js function')
      const expected = new RegExp(`'${name.replace('.', '\\.')}': (\\w+)`).exec(thresholdsLib)?.[1]
      t.equal(thresholdsCall, expected, `thresholds come from THRESHOLDS_BY_SCRIPT['${name}'] (the function the tests judge)`)
      t.ok(importsOf(sf).includes('./lib/thresholds.js'), 'imports ./lib/thresholds.js')
      t.ok(hasDefault, 'exports a default function')
      t.ok(setupBody !== undefined, 'exports setup()')
      t.match(setupBody?.getText(sf) ?? '', /standardSetup\(CFG/, 'setup() runs the health gate and id checks (lib/targets.js)')
      t.ok(importsOf(sf).includes('./lib/targets.js'), 'standardSetup comes from ./lib/targets.js')
      t.notMatch(text, /__ENV\.[A-Z]/, 'settings only through readConfig(__ENV)')
    })
  }
})

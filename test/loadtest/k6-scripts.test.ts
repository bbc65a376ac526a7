// Static checks of the k6 scripts in loadtest/k6 (k6 itself is not installed
// here): they type-check against @types/k6, import only k6 modules and ./lib,
// avoid syntax older k6 (0.49) cannot run, and each numbered scenario has SLO
// thresholds, a default function and a setup() that gates on GET /health.

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
  t.ok(libs.includes('config.js') && libs.includes('stages.js'), 'lib/config.js and lib/stages.js exist')
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

t.test('each numbered scenario: header question, SLO thresholds, default function, health-gated setup', async (t) => {
  const health = readFileSync(join(libDir, 'health.js'), 'utf8')
  t.match(health, /\/health/, 'lib/health.js requests /health')
  t.match(health, /status === 200/, 'lib/health.js requires a 200')
  t.match(health, /fail\(/, 'lib/health.js fails the test otherwise')

  for (const name of scripts) {
    t.test(name, async (t) => {
      const sf = parse(join(k6Dir, name))
      const text = sf.getFullText()
      t.match(text.slice(0, 400), /^\/\/ \d{2} [^\n]*\n?(\/\/[^\n]*\n)*/, 'starts with a header comment')
      t.match(text.slice(0, 600), /Question:/, 'header says which question it answers')

      let thresholds: ts.ObjectLiteralExpression | undefined
      let hasDefault = false
      let setupBody: ts.Block | undefined
      for (const st of sf.statements) {
        if (ts.isVariableStatement(st) && hasExportModifier(st)) {
          for (const d of st.declarationList.declarations) {
            if (ts.isIdentifier(d.name) && d.name.text === 'options' && d.initializer !== undefined && ts.isObjectLiteralExpression(d.initializer)) {
              for (const p of d.initializer.properties) {
                if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'thresholds' && ts.isObjectLiteralExpression(p.initializer)) {
                  thresholds = p.initializer
                }
              }
            }
          }
        }
        if (ts.isFunctionDeclaration(st) && hasExportModifier(st) && hasDefaultModifier(st)) hasDefault = true
        if (ts.isExportAssignment(st) && !st.isExportEquals) hasDefault = true
        if (ts.isFunctionDeclaration(st) && hasExportModifier(st) && st.name?.text === 'setup') setupBody = st.body
      }
      t.ok(thresholds !== undefined, 'exports options with a thresholds object')
      t.ok(thresholds !== undefined && thresholds.properties.length > 0, 'at least one threshold')
      t.ok(hasDefault, 'exports a default function')
      t.ok(setupBody !== undefined, 'exports setup()')
      const setupText = setupBody?.getText(sf) ?? ''
      t.ok(/requireHealthy\(\)/.test(setupText) || /\/health/.test(setupText), 'setup() checks /health')
      if (/requireHealthy/.test(setupText)) {
        t.ok(importsOf(sf).includes('./lib/health.js'), 'requireHealthy comes from ./lib/health.js')
      }
    })
  }
})

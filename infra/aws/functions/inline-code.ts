// Inline Lambda code from one of our TypeScript modules: the module is
// transpiled to CommonJS at synth with the TypeScript compiler (a dev
// dependency; no bundler, no network, no Docker) and goes into the template
// as `Code.ZipFile`, which CloudFormation writes as `index.js`. So the module
// must be self-contained: it may import only what the Lambda Node.js runtime
// ships (`@aws-sdk/*`) and Node's built-ins; anything else is refused here.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import ts from 'typescript'

/** CloudFormation's limit on `ZipFile` (the zip it makes must stay under 4 MB; we keep the source under it). */
export const INLINE_CODE_MAX_BYTES = 4 * 1024 * 1024

const ALLOWED_IMPORT = /^(?:@aws-sdk\/[a-z0-9-]+|node:[a-z_/]+)$/

/**
 * CommonJS source of the TypeScript module at `file`, for `Code.fromInline`.
 * Throws when the module has a syntax error, imports anything but `@aws-sdk/*`
 * or `node:*`, or comes out larger than {@link INLINE_CODE_MAX_BYTES}.
 */
export function inlineCommonJs(file: string): string {
  const source = readFileSync(file, 'utf8')
  const out = ts.transpileModule(source, {
    fileName: basename(file),
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      removeComments: false,
    },
  })
  const problems = out.diagnostics ?? []
  if (problems.length > 0) {
    const text = problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')
    throw new Error(`inline code ${file}: ${text}`)
  }
  const code = out.outputText
  for (const match of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
    const specifier = match[1] ?? ''
    if (!ALLOWED_IMPORT.test(specifier)) {
      throw new Error(`inline code ${file}: imports ${JSON.stringify(specifier)}; an inlined module may import only @aws-sdk/* and node:* (it becomes a single index.js)`)
    }
  }
  const bytes = Buffer.byteLength(code)
  if (bytes > INLINE_CODE_MAX_BYTES) throw new Error(`inline code ${file}: ${bytes} bytes, more than ${INLINE_CODE_MAX_BYTES}`)
  return code
}

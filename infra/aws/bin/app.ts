// CDK entry point (`npm run synth`, or `cdk synth` from infra/aws): builds
// the selected environment's stack and writes the cloud assembly to
// infra/aws/cdk.out. Offline: no lookups, no credentials needed.
import { ContextError } from '../config.js'
import { createApp } from '../app.js'

try {
  const { app, stacks } = createApp()
  const assembly = app.synth()
  for (const stack of stacks) process.stdout.write(`synthesized ${stack.stackName} -> ${assembly.directory}/${stack.templateFile}\n`)
} catch (err) {
  if (err instanceof ContextError) {
    process.stderr.write(`synth failed: ${err.message}\n`)
    process.exitCode = 1
  } else {
    throw err
  }
}

// Edge construct: internet-facing ALB, HTTPS listener with only a default
// action to the router target group, HTTP → HTTPS redirect, WebSocket idle
// timeout, optional WAF, drain-matched deregistration delay.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import { Edge } from '../../infra/aws/constructs/edge.js'
import type { EdgeProps } from '../../infra/aws/constructs/edge.js'
import { containerOf, envOf, onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack (synthesized once for this file)
const { template, config } = synthStack('dev')

function edgeAlone(extra: Partial<EdgeProps> = {}): Template {
  const stack = new Stack(new App(), 'EdgeAlone')
  // An imported VPC keeps this small synth fast.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'], publicSubnetIds: ['subnet-a', 'subnet-b'] })
  new Edge(stack, 'Edge', {
    vpc,
    subnets: { subnets: vpc.publicSubnets },
    certificateArn: config.certificateArn,
    idleTimeoutSeconds: 4000,
    routerPort: 8080,
    healthCheckPath: '/health',
    deregistrationDelaySeconds: 30,
    ...extra,
  })
  return Template.fromStack(stack)
}

t.test('the load balancer is internet-facing, in the public subnets', async (t) => {
  const alb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')
  t.equal(alb.Properties.Scheme, 'internet-facing')
  t.equal(alb.Properties.Type, 'application')
  const subnets = alb.Properties.Subnets as Array<{ Ref: string }>
  t.equal(subnets.length, 2)
  for (const s of subnets) t.match(s.Ref, /publicSubnet/i, 'ALB subnet is a public subnet')
})

t.test('idle timeout fits hours-long WebSockets: >= 3600 s and <= ALB max 4000 s', async (t) => {
  const alb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')
  const attrs = alb.Properties.LoadBalancerAttributes as Array<{ Key: string; Value: string }>
  const idle = attrs.find((a) => a.Key === 'idle_timeout.timeout_seconds')
  t.ok(idle, 'idle timeout attribute set')
  const seconds = Number(idle?.Value)
  t.ok(seconds >= 3600, `idle timeout ${seconds} >= 3600`)
  t.ok(seconds <= 4000, `idle timeout ${seconds} <= 4000`)
  t.equal(attrs.find((a) => a.Key === 'routing.http.drop_invalid_header_fields.enabled')?.Value, 'true')
})

t.test('HTTPS listener: certificate from context, modern TLS policy, default action forwards to the router target group', async (t) => {
  const https = onlyResource(template, 'AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS' })
  t.equal(https.Properties.Port, 443)
  t.same(https.Properties.Certificates, [{ CertificateArn: config.certificateArn }])
  t.match(String(https.Properties.SslPolicy), /^ELBSecurityPolicy-TLS13/)
  const actions = https.Properties.DefaultActions as Array<{ Type: string; TargetGroupArn?: { Ref: string } }>
  t.equal(actions.length, 1, 'exactly one default action')
  t.equal(actions[0]?.Type, 'forward')
  const tg = onlyResource(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')
  t.same(actions[0]?.TargetGroupArn, { Ref: tg.id }, 'forwards to the router target group')
})

t.test('no listener rules at all: routing is the router tier’s job', async (t) => {
  template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0)
  template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2)
  template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1)
  t.pass()
})

t.test('HTTP listener only redirects to HTTPS (301)', async (t) => {
  const http = onlyResource(template, 'AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP' })
  t.equal(http.Properties.Port, 80)
  t.same(http.Properties.DefaultActions, [
    { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
  ])
})

t.test('router target group: instance targets (bridge mode), /health check, deregistration delay = router drain', async (t) => {
  const tg = onlyResource(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')
  t.equal(tg.Properties.TargetType, 'instance')
  t.equal(tg.Properties.HealthCheckPath, '/health')
  t.same(tg.Properties.Matcher, { HttpCode: '200' }, 'a draining router (503) is unhealthy')
  const attrs = tg.Properties.TargetGroupAttributes as Array<{ Key: string; Value: string }>
  const delay = Number(attrs.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value)
  // THEN the delay equals the router's drain, read back from its container env
  const router = containerOf(onlyResource(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'router' })]) }))
  const env = envOf(router)
  const drainSeconds = (Number(env.DRAIN_DELAY_MS) + Number(env.DRAIN_TIMEOUT_MS)) / 1000
  t.equal(delay, drainSeconds)
  t.equal(delay, config.drainDelaySeconds + config.drainTimeoutSeconds)
})

t.test('ALB security group: 80/443 in from anywhere, out only to the router instances', async (t) => {
  const sgId = (onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties.SecurityGroups as Array<{ 'Fn::GetAtt': string[] }>)[0]?.['Fn::GetAtt'][0]
  const sg = resourcesOf(template, 'AWS::EC2::SecurityGroup')[sgId ?? '']
  const ingress = (sg?.Properties?.SecurityGroupIngress ?? []) as Array<{ FromPort: number; CidrIp: string }>
  t.same(ingress.map((i) => i.FromPort).sort((a, b) => a - b), [80, 443])
  for (const i of ingress) t.equal(i.CidrIp, '0.0.0.0/0')
  const egress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')).filter((e) => JSON.stringify(e.Properties?.GroupId).includes(sgId ?? '?'))
  t.equal(egress.length, 1, 'one egress rule: to the router instances')
  t.match(JSON.stringify(egress[0]?.Properties?.DestinationSecurityGroupId), /RouterInstanceSecurityGroup/)
})

t.test('WAF: associated when a web ACL ARN is given, absent otherwise', async (t) => {
  template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0)
  const waf = 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/edge/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
  const withWaf = edgeAlone({ wafWebAclArn: waf })
  withWaf.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: waf, ResourceArn: { Ref: Match.stringLikeRegexp('LoadBalancer') } })
  t.pass()
})

t.test('idle timeout above ALB’s 4000 s maximum is refused at synth', async (t) => {
  t.throws(() => edgeAlone({ idleTimeoutSeconds: 4001 }), /idleTimeoutSeconds/)
})

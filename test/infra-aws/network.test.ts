// Network construct: two AZs, public subnets for the ALB, private subnets with
// NAT egress for the container instances, and no public IPs on instances.
import t from 'tap'
import { App, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { Network } from '../../infra/aws/constructs/network.js'
import { onlyResource, resourcesOf, synthStack } from './fixtures/stack.js'

// GIVEN the dev stack (one NAT) and prod stack config (two NATs)
const { template, config } = synthStack('dev')

t.test('VPC with the configured CIDR and DNS support', async (t) => {
  const vpc = onlyResource(template, 'AWS::EC2::VPC')
  t.equal(vpc.Properties.CidrBlock, config.vpcCidr)
  t.equal(vpc.Properties.EnableDnsSupport, true, 'needed for the Cloud Map private hosted zone')
  t.equal(vpc.Properties.EnableDnsHostnames, true)
})

t.test('two AZs: two public and two private subnets, each pair in different AZs', async (t) => {
  const subnets = Object.entries(resourcesOf(template, 'AWS::EC2::Subnet'))
  t.equal(subnets.length, 4)
  const pub = subnets.filter(([, s]) => JSON.stringify(s.Properties?.Tags).includes('"Public"'))
  const priv = subnets.filter(([, s]) => JSON.stringify(s.Properties?.Tags).includes('"Private"'))
  t.equal(pub.length, 2)
  t.equal(priv.length, 2)
  for (const group of [pub, priv]) {
    const azs = group.map(([, s]) => JSON.stringify(s.Properties?.AvailabilityZone))
    t.not(azs[0], azs[1], 'different AZs')
  }
  for (const [, s] of subnets) t.equal(s.Properties?.MapPublicIpOnLaunch, false, 'no subnet hands out public IPs')
})

t.test('private subnets route to the internet only through NAT', async (t) => {
  template.resourceCountIs('AWS::EC2::NatGateway', config.natGateways)
  const routes = Object.values(resourcesOf(template, 'AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0' }))
  const viaNat = routes.filter((r) => r.Properties?.NatGatewayId !== undefined)
  const viaIgw = routes.filter((r) => r.Properties?.GatewayId !== undefined)
  t.equal(viaNat.length, 2, 'both private route tables default-route to NAT')
  t.equal(viaIgw.length, 2, 'both public route tables default-route to the IGW')
})

t.test('container instances (and so bridge-mode tasks) get no public IPs and live in private subnets', async (t) => {
  const templates = Object.values(resourcesOf(template, 'AWS::EC2::LaunchTemplate'))
  t.equal(templates.length, 2)
  for (const lt of templates) {
    const data = lt.Properties?.LaunchTemplateData as { NetworkInterfaces: Array<{ AssociatePublicIpAddress: boolean }> }
    t.same(data.NetworkInterfaces.map((n) => n.AssociatePublicIpAddress), [false])
  }
  for (const asg of Object.values(resourcesOf(template, 'AWS::AutoScaling::AutoScalingGroup'))) {
    const ids = asg.Properties?.VPCZoneIdentifier as Array<{ Ref: string }>
    t.equal(ids.length, 2)
    for (const id of ids) t.match(id.Ref, /privateSubnet/i)
  }
  // Bridge mode: no awsvpc network configuration (where AssignPublicIp would live).
  for (const svc of Object.values(resourcesOf(template, 'AWS::ECS::Service'))) t.equal(svc.Properties?.NetworkConfiguration, undefined)
})

t.test('natGateways: 2 gives one NAT per AZ; explicit AZs need no lookup', async (t) => {
  // WHEN the network is built with two NATs and fixed AZs
  const stack = new Stack(new App(), 'Net', { env: { account: '111111111111', region: 'eu-west-1' } })
  new Network(stack, 'Network', { cidr: '10.9.0.0/16', natGateways: 2, availabilityZones: ['eu-west-1a', 'eu-west-1b'] })
  const tpl = Template.fromStack(stack)
  // THEN
  tpl.resourceCountIs('AWS::EC2::NatGateway', 2)
  const azs = Object.values(resourcesOf(tpl, 'AWS::EC2::Subnet')).map((s) => s.Properties?.AvailabilityZone)
  t.same([...new Set(azs)].sort(), ['eu-west-1a', 'eu-west-1b'])
})

/** meet-auth and the agent synthesized alone, each with the image built from the repository. */
import { edgeImage, type EdgeImageSource } from '../../stacks/edge-image.js';
import { MeetAgent, type MeetAgentProps } from '../../stacks/meet-agent.js';
import { MeetAuth, type MeetAuthProps } from '../../stacks/meet-auth.js';
import { dockerStack, synthJson } from './helpers.js';

export const HASH = 'ab'.repeat(32);
export const built: Extract<EdgeImageSource, { kind: 'build' }> = {
  kind: 'build',
  context: '../../..',
  sourceHash: HASH,
};

export function synthAgent(props: Partial<MeetAgentProps> = {}) {
  const { stack, provider } = dockerStack();
  const image = edgeImage(stack, 'image', provider, built);
  new MeetAgent(stack, 'agent', {
    provider,
    image,
    privateIp: '172.16.1.2',
    signingSecrets: 'whsec_a',
    sealingPrivateKeys: 'priv',
    certificate: { domains: ['meet.example.org'] },
    ...props,
  });
  return synthJson(stack);
}

export function synthMeetAuth(props: Partial<MeetAuthProps> = {}) {
  const { stack, provider } = dockerStack();
  const image = edgeImage(stack, 'image', provider, built);
  new MeetAuth(stack, 'edge', {
    provider,
    image,
    publicUrl: 'https://auth.example.org',
    agents: [
      { name: 'jitsi', url: 'http://172.16.1.2:4000', sealingPublicKey: 'pub', signingSecrets: 'whsec_a whsec_b' },
    ],
    certificate: { domains: ['auth.example.org'] },
    ...props,
  });
  return synthJson(stack);
}

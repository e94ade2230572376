/** Adds one environment (its two stacks, in deploy order) to a cdktf App. Reads no files and no env. */
import { relative, resolve } from 'node:path';
import type { App } from 'cdktf';
import { CloudStack } from './cloud-stack.js';
import type { EnvironmentConfig } from './config.js';
import { ServicesStack } from './services-stack.js';

export interface EnvironmentStacks {
  readonly cloud: CloudStack;
  readonly services: ServicesStack;
}

export type EdgeImageOption =
  | {
      readonly kind: 'build';
      /** Absolute path of the repository (the build context). */ readonly repoRoot: string;
      readonly sourceHash: string;
    }
  | { readonly kind: 'registry'; readonly reference: string };

export function addEnvironment(app: App, env: EnvironmentConfig, image: EdgeImageOption): EnvironmentStacks {
  const cloud = new CloudStack(app, `${env.name}-cloud`, env);
  const servicesId = `${env.name}-services`;
  const reference = env.edge.image;
  const edgeImage = reference
    ? { kind: 'registry' as const, reference }
    : image.kind === 'registry'
      ? image
      : {
          kind: 'build' as const,
          // Terraform runs in <outdir>/stacks/<stack>; a relative context keeps the synthesized files portable.
          context: relative(resolve(app.outdir, 'stacks', servicesId), image.repoRoot) || '.',
          sourceHash: image.sourceHash,
        };
  const services = new ServicesStack(app, servicesId, { env, cloud, edgeImage });
  return { cloud, services };
}

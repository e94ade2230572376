/** Every environment `npm run synth` knows; add a file here for each further deployment. */
import type { EnvironmentInput } from '../config.js';
import { production } from './production.js';
import { staging } from './staging.js';

export const environments: readonly EnvironmentInput[] = [production, staging];

/**
 * The Cinder volume that keeps a stateful host's state (Prosody's accounts, meet-auth's registry, certificates,
 * ACME accounts) beyond its instance. `prevent_destroy`: no plan that would destroy or replace it can be applied,
 * so neither an image refresh, a user-data edit nor a flavor change can take the state with the instance.
 * Nothing about it depends on the instance: the instance (and its user data) depends on it.
 */
import { Construct } from 'constructs';
import { BlockstorageVolumeV3 } from '../.gen/providers/openstack/blockstorage-volume-v3/index.js';

export interface StateVolumeProps {
  /** Volume name, e.g. "production-jitsi-state". */
  readonly name: string;
  /** Size in GiB (Cinder extends a volume in place; it never shrinks one). */
  readonly sizeGb: number;
  /** What it holds, for the description. */
  readonly holds: string;
}

export class StateVolume extends Construct {
  readonly volume: BlockstorageVolumeV3;
  readonly sizeGb: number;

  constructor(scope: Construct, id: string, props: StateVolumeProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(props.name))
      throw new Error(`volume name "${props.name}" must be lower-case letters, digits and dashes`);
    if (!Number.isInteger(props.sizeGb) || props.sizeGb < 1 || props.sizeGb > 1000)
      throw new Error(`volume "${props.name}": size ${props.sizeGb} GiB must be a whole number from 1 to 1000`);
    this.sizeGb = props.sizeGb;
    this.volume = new BlockstorageVolumeV3(this, 'volume', {
      name: props.name,
      size: props.sizeGb,
      description: `Wikimedia Meet state: ${props.holds}`,
      // An extension is done online where Cinder can (else it needs the volume detached).
      enableOnlineResize: true,
      lifecycle: { preventDestroy: true },
    });
  }
}

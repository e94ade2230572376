import { TerraformResource, type ITerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';

/**
 * A `terraform_data` resource (built into Terraform ≥ 1.4, no provider). Not cdktf's DataResource: that class
 * adds a validation which runs `terraform version` during synth, once per instance. With `forEach`, one
 * resource holds the triggers of many containers (address `terraform_data.<id>["<key>"]`).
 */
export class SettingsTrigger extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  constructor(
    scope: Construct,
    id: string,
    private readonly inputValue: Readonly<Record<string, string>>,
    forEach?: ITerraformIterator,
  ) {
    super(scope, id, { terraformResourceType: SettingsTrigger.tfResourceType, forEach });
  }

  /** The bare address replace_triggered_by needs (cdktf renders a resource object as "${...}", which Terraform
   * rejects: hashicorp/terraform-cdk#3196, #3532), optionally of one for_each instance. */
  address(key?: string): string {
    const base = `${SettingsTrigger.tfResourceType}.${this.friendlyUniqueId}`;
    return key === undefined ? base : `${base}[${JSON.stringify(key)}]`;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { input: { ...this.inputValue } };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { input: { value: { ...this.inputValue }, isBlock: false, type: 'map', storageClassType: 'stringMap' } };
  }
}

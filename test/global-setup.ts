/**
 * Runs once before every test run. Generates the OpenStack bindings in `.gen/` when the committed
 * provider schema changed (the stacks helper fills this in).
 */
export default async function setup(): Promise<void> {}

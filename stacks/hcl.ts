/**
 * cdktf renders a string that mixes literal text and tokens ("X=${var.y}") badly when it sits inside a
 * Terraform function call such as jsonencode(). These helpers turn such strings into join("", [...]) calls,
 * which render correctly; plain strings and pure tokens pass through unchanged.
 */
import { DefaultTokenResolver, Fn, StringConcat, Token, Tokenization } from 'cdktf';
import type { IConstruct } from 'constructs';

function functionSafe(value: string): string {
  const fragments = Tokenization.reverseString(value);
  if (fragments.tokens.length === 0 || fragments.length === 1) return value;
  const flatten = (part: unknown): unknown[] => (Array.isArray(part) ? part : [part]);
  const parts = fragments.join({
    join: (left: unknown, right: unknown) => [...flatten(left), ...flatten(right)],
  }) as unknown[];
  return Fn.join(
    '',
    parts.map((part) => (typeof part === 'string' ? part : Token.asString(part))),
  );
}

/** Applies functionSafe to every string in a JSON-like value. */
export function deepFunctionSafe<T>(value: T): T {
  if (typeof value === 'string') return functionSafe(value) as T;
  if (Array.isArray(value)) return value.map(deepFunctionSafe) as T;
  if (value !== null && typeof value === 'object' && !Tokenization.isResolvable(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, deepFunctionSafe(item)])) as T;
  }
  return value;
}

/**
 * Renders the tokens of a string now, as synth would in `scope`'s stack ("X=${var.y}"), so a value repeated per
 * extra host is one plain string instead of tokens resolved again on each synth pass. Same-stack references only:
 * a cross-stack one would not get its output (cdktf adds those while preparing the synth).
 */
export function renderedNow(scope: IConstruct, value: string): string {
  if (!Token.isUnresolved(value)) return value;
  const rendered: unknown = Tokenization.resolve(value, {
    scope,
    preparing: false,
    resolver: new DefaultTokenResolver(new StringConcat()),
  });
  if (typeof rendered !== 'string') throw new Error(`"${value}" does not render to a string`);
  return rendered;
}

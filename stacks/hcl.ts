/**
 * cdktf renders a string that mixes literal text and tokens ("X=${var.y}") badly when it sits inside a
 * Terraform function call such as jsonencode(). These helpers turn such strings into join("", [...]) calls,
 * which render correctly; plain strings and pure tokens pass through unchanged.
 */
import { Fn, Token, Tokenization } from 'cdktf';

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

/**
 * Renders the subset of Go templates (as jitsi/tpl runs them) that docker-jitsi-meet's web nginx templates use:
 * `{{ .Env.X }}`, `{{ $v }}`, `{{ $v := pipeline }}`, `{{ if pipeline }}…{{ else }}…{{ end }}`, `not (…)`, the
 * `default` and `toBool` functions, and the `{{-`/`-}}` trim markers. Anything else throws, so a template that
 * uses more fails the test instead of rendering wrongly.
 */
type Value = string | boolean;

const ACTION = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;

function truthy(value: Value): boolean {
  return typeof value === 'boolean' ? value : value !== '';
}

/** Go's strconv.ParseBool, which tpl's toBool uses; anything else is false. */
function toBool(value: Value): boolean {
  if (typeof value === 'boolean') return value;
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

export function renderGoTemplate(template: string, env: Readonly<Record<string, string>>): string {
  const vars = new Map<string, Value>();

  const term = (text: string): Value => {
    const t = text.trim();
    let match: RegExpMatchArray | null;
    if ((match = t.match(/^\.Env\.([A-Z0-9_]+)$/))) return env[match[1]!] ?? '';
    if ((match = t.match(/^\$([A-Za-z0-9_]+)$/))) {
      if (!vars.has(match[1]!)) throw new Error(`template variable $${match[1]} is not defined`);
      return vars.get(match[1]!)!;
    }
    if ((match = t.match(/^"([^"]*)"$/))) return match[1]!;
    if ((match = t.match(/^not\s+\((.*)\)$/))) return !truthy(pipeline(match[1]!));
    throw new Error(`unsupported template term: ${t}`);
  };

  /** Splits on "|" outside parentheses. */
  const stages = (text: string): string[] => {
    const out = [''];
    let depth = 0;
    for (const char of text) {
      if (char === '(') depth += 1;
      if (char === ')') depth -= 1;
      if (char === '|' && depth === 0) out.push('');
      else out[out.length - 1] += char;
    }
    return out;
  };

  const pipeline = (text: string): Value => {
    const [first, ...calls] = stages(text);
    let value = term(first!);
    for (const call of calls) {
      const [name, ...args] = call.trim().split(/\s+/);
      if (name === 'toBool' && args.length === 0) value = toBool(value);
      else if (name === 'default' && args.length === 1) value = truthy(value) ? value : term(args[0]!);
      else throw new Error(`unsupported template function: ${call.trim()}`);
    }
    return value;
  };

  // Split into text and actions, applying the trim markers.
  const parts: Array<{ text: string } | { action: string }> = [];
  let last = 0;
  for (const match of template.matchAll(ACTION)) {
    let text = template.slice(last, match.index);
    if (match[1] === '-') text = text.replace(/\s+$/, '');
    const previous = parts.at(-1);
    if (previous && 'action' in previous && (previous as { trimAfter?: boolean }).trimAfter) text = text.replace(/^\s+/, '');
    parts.push({ text });
    parts.push(Object.assign({ action: match[2]! }, { trimAfter: match[3] === '-' }));
    last = match.index! + match[0].length;
  }
  let tail = template.slice(last);
  const previous = parts.at(-1);
  if (previous && 'action' in previous && (previous as { trimAfter?: boolean }).trimAfter) tail = tail.replace(/^\s+/, '');
  parts.push({ text: tail });

  // Evaluate with a stack of "is this branch taken" flags.
  const taken: Array<{ active: boolean; done: boolean }> = [];
  const active = () => taken.every((frame) => frame.active);
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      if (active()) out += part.text;
      continue;
    }
    const action = part.action;
    let match: RegExpMatchArray | null;
    if ((match = action.match(/^if\s+(.*)$/s))) {
      const cond = active() && truthy(pipeline(match[1]!));
      taken.push({ active: cond, done: cond });
    } else if (action === 'else') {
      const frame = taken.at(-1);
      if (!frame) throw new Error('{{ else }} without {{ if }}');
      frame.active = !frame.done;
      frame.done = true;
    } else if (action === 'end') {
      if (!taken.pop()) throw new Error('{{ end }} without {{ if }}');
    } else if ((match = action.match(/^\$([A-Za-z0-9_]+)\s*:=\s*(.*)$/s))) {
      if (active()) vars.set(match[1]!, pipeline(match[2]!));
    } else if (active()) {
      out += String(pipeline(action));
    }
  }
  if (taken.length > 0) throw new Error('unclosed {{ if }}');
  return out;
}

/**
 * Lookalike usernames, refused as Wikimedia refuses them for accounts (Unicode UTS #39): a name whose letters come
 * from scripts that are never written together (Latin with one Cyrillic letter) is mixed-script; a name whose
 * confusable skeleton equals an existing name's looks like that name (`raul` and `rauI`, `paypal` and `pаypal`).
 * The skeleton is UTS #39's: NFD, each character replaced by its prototype from Unicode's confusables.txt (the
 * unhomoglyph library's data), NFD again. meet-auth stores it beside each name, UNIQUE, so the check is an index
 * lookup and two lookalikes cannot be reserved at once.
 */
import scriptAliases from 'unicode-property-value-aliases';
import prototypes from 'unhomoglyph/data.json' with { type: 'json' };

const PROTOTYPES: Readonly<Record<string, string>> = prototypes;

/**
 * UTS #39 §4 skeleton of `name`. The data's every key is one code point, so a lookup per code point gives what the
 * library's function gives, without the one regular expression of 6,311 alternatives that it builds at import
 * (test/edge/shared/lookalikes.test.ts compares the two over every code point).
 */
export function skeleton(name: string): string {
  let replaced = '';
  for (const char of name.normalize('NFD')) replaced += PROTOTYPES[char] ?? char;
  return replaced.normalize('NFD');
}

let scripts: ReadonlyArray<readonly [string, RegExp]> | undefined;

/**
 * Every script this JavaScript engine knows (by Script_Extensions), Common and Inherited left out (they go with any).
 * Built on the first name that is not all Latin, so a process that never sees one never builds the 170-odd patterns.
 */
function knownScripts(): ReadonlyArray<readonly [string, RegExp]> {
  scripts ??= [...new Set(scriptAliases.get('Script')?.values() ?? [])]
    .filter((name) => !['Common', 'Inherited', 'Unknown'].includes(name))
    .flatMap((name) => {
      try {
        return [[name, new RegExp(`\\p{Script_Extensions=${name}}`, 'u')] as const];
      } catch {
        return []; // a script newer than this engine's Unicode
      }
    });
  return scripts;
}

/** UTS #39 §5.1: Han goes with Japanese, Korean and Bopomofo ("augmented" script sets). */
const AUGMENT: Readonly<Record<string, readonly string[]>> = {
  Han: ['Han_With_Bopomofo', 'Japanese', 'Korean'],
  Hiragana: ['Japanese'],
  Katakana: ['Japanese'],
  Hangul: ['Korean'],
  Bopomofo: ['Han_With_Bopomofo'],
};

const cache = new Map<string, ReadonlySet<string> | null>();

/** The augmented script set of one character, or null for one that goes with any script (digits, ".", marks). */
function scriptSet(char: string): ReadonlySet<string> | null {
  let set = cache.get(char);
  if (set === undefined) {
    const found = knownScripts()
      .filter(([, pattern]) => pattern.test(char))
      .flatMap(([name]) => [name, ...(AUGMENT[name] ?? [])]);
    set = found.length === 0 ? null : new Set(found);
    if (cache.size < 10_000) cache.set(char, set);
  }
  return set;
}

/** Names made of Latin (and what goes with anything) only, the common case, decided without the per-script scan. */
const LATIN_ONLY = /^[\p{scx=Latin}\p{scx=Common}\p{scx=Inherited}]*$/u;

/** Whether `name`'s resolved script set (UTS #39 §5.1) is empty: its letters are not all of one writing system. */
export function isMixedScript(name: string): boolean {
  if (LATIN_ONLY.test(name)) return false;
  let resolved: string[] | undefined;
  for (const char of name) {
    const set = scriptSet(char);
    if (!set) continue;
    resolved = resolved === undefined ? [...set] : resolved.filter((script) => set.has(script));
    if (resolved.length === 0) return true;
  }
  return false;
}

/**
 * Marks that hide in the letter they sit on (UTS #39 §5.4): a dot above on a letter that has its dot already (i, j
 * and the other soft-dotted letters, or dotless ı and ȷ), and the same nonspacing mark twice in a row.
 */
const HIDDEN_MARK = /[\p{Soft_Dotted}\u0131\u0237]\p{Mn}*\u0307|(\p{Mn})\1/u;

/** Why `name` (already folded) would pass for someone else's, or null. */
export function lookalikeProblem(name: string): string | null {
  if (isMixedScript(name))
    return 'That username mixes letters of different scripts (such as Latin and Cyrillic), so it could pass for another name. Use letters of one script.';
  if (HIDDEN_MARK.test(name))
    return 'That username has an accent that cannot be seen (a dot on i or j, or the same mark twice), so it could pass for another name.';
  return null;
}

import { describe, expect, it } from 'vitest';
import { createUserLine, luaLiteral } from '../../../../edge/agent/prosody/lua.js';
import { TRICKY } from '../../../support/tricky-passwords.js';

describe('luaLiteral', () => {
  it('escapes every byte, so the literal holds only digits and backslashes', () => {
    expect(luaLiteral('a"\n')).toBe('"\\097\\034\\010"');
    expect(luaLiteral('é')).toBe('"\\195\\169"');
    for (const value of TRICKY) expect(luaLiteral(value)).toMatch(/^"(\\\d{3})+"$/);
  });

  it('the create line carries name and password only as escaped literals', () => {
    for (const password of TRICKY) {
      const line = createUserLine('someone', 'meet.jitsi', password);
      expect(line).toContain(luaLiteral(password));
      expect(line.replace(luaLiteral(password), '')).not.toContain(password);
      expect(line).not.toContain('someone');
      expect(line).not.toMatch(/[\n\r]/);
    }
  });
});

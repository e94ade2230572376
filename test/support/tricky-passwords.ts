/** Passwords that would break any quoting: shell, Lua, XML and non-ASCII; shared by the Prosody backend tests. */
export const TRICKY = [
  'has spaces in it',
  `quotes ' and " here`,
  'xml < & > chars',
  'shell $(touch /tmp/pwned) `id`',
  'lua "..os.exit(1)..", ]]--',
  'Ünïcödé пароль 密码',
];

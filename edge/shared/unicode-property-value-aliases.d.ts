// Typings for unicode-property-value-aliases (which ships none): property name → (alias → canonical value).
declare module 'unicode-property-value-aliases' {
  const aliases: Map<string, Map<string, string>>;
  export default aliases;
}

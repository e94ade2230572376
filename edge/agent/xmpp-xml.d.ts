// Typings for the part of @xmpp/xml (which ships none) that the admin-socket client uses.
declare module '@xmpp/xml' {
  import type { EventEmitter } from 'node:events';
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    getText(): string;
  }
  export class Parser extends EventEmitter {
    write(data: string): void;
  }
  export function escapeXML(value: string): string;
  export function escapeXMLText(value: string): string;
}

/** Looks up an element of admin/index.html and checks its type (a missing or mistyped id fails loudly). */
export function byId(id: string): HTMLElement;
export function byId<T extends HTMLElement>(id: string, type: new () => T): T;
export function byId(id: string, type: new () => HTMLElement = HTMLElement): HTMLElement {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`admin console: #${id} is missing or not a ${type.name}`);
  return el;
}

// Tiny DOM helpers. Every piece of data becomes a Text node (or
// textContent); nothing in this UI ever assigns innerHTML, so an event
// carrying markup is shown literally and never runs.

export type Child = Node | string | number | boolean | null | undefined | Child[];

export interface Attrs {
  class?: string;
  title?: string;
  href?: string;
  id?: string;
  type?: string;
  value?: string;
  placeholder?: string;
  name?: string;
  for?: string;
  checked?: boolean;
  disabled?: boolean;
  style?: string;
  role?: string;
  colspan?: number;
  list?: string;
  autocomplete?: string;
  spellcheck?: boolean;
  data?: Record<string, string>;
  on?: Partial<Record<keyof HTMLElementEventMap, (ev: any) => void>>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "on") {
        for (const [ev, fn] of Object.entries(v as Record<string, EventListener>)) el.addEventListener(ev, fn);
      } else if (k === "data") {
        for (const [dk, dv] of Object.entries(v as Record<string, string>)) el.dataset[dk] = dv;
      } else if (k === "checked" || k === "disabled" || k === "value") {
        (el as any)[k] = v;
      } else if (k === "href") {
        // Only our own routes and API paths are ever linked.
        const s = String(v);
        el.setAttribute("href", s.startsWith("#") || s.startsWith("/") ? s : "#");
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === true) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function text(s: unknown): Text {
  return document.createTextNode(s === undefined || s === null ? "" : String(s));
}

/** Stripe's request bodies are form-encoded with bracketed keys (`line_items[0][price_data][currency]=usd`). */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const [head, ...rest] = rawKey.split('[');
    const path = [head!, ...rest.map((part) => part.replace(/]$/, ''))];
    let node: FormObject = root;
    path.forEach((segment, index) => {
      if (index === path.length - 1) {
        node[segment] = value;
        return;
      }
      node[segment] ??= {};
      node = node[segment] as FormObject;
    });
  }
  return arraysFromIndexedObjects(root) as FormObject;
}

/** `{0: a, 1: b}` → `[a, b]`, recursively. */
function arraysFromIndexedObjects(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.fromEntries(keys.map((key) => [key, arraysFromIndexedObjects(value[key]!)]));
  if (keys.length > 0 && keys.every((key, index) => key === String(index))) return keys.map((key) => converted[key]!);
  return converted;
}

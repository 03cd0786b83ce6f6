/**
 * The contract's "common-password list". Passwords are at least 12 characters, so instead of a large breach
 * corpus (mostly shorter entries) this catches what such lists hold at that length: a well-known base word
 * padded with digits/symbols (`Password1234!`, `P@ssw0rd2024`), keyboard walks, alphabet or digit runs, and
 * short units repeated (`abcabcabcabc`). Input is already NFKC-normalised and lower-cased.
 */
const BASE_WORDS = new Set([
  'password', 'passwort', 'passwd', 'pass', 'qwerty', 'qwertz', 'azerty', 'iloveyou', 'welcome', 'letmein', 'admin',
  'administrator', 'changeme', 'monkey', 'dragon', 'football', 'baseball', 'soccer', 'superman', 'batman',
  'trustno1', 'sunshine', 'princess', 'master', 'shadow', 'michael', 'jennifer', 'starwars', 'whatever',
  'secret', 'login', 'default', 'root', 'test', 'guest', 'user', 'abc', 'gpuaas', 'nvidia', 'computer',
  'internet', 'freedom', 'hello', 'loveme', 'mustang', 'access', 'flower', 'killer', 'pokemon', 'summer',
  'winter', 'spring', 'autumn', 'january', 'december', 'cookie', 'cheese', 'chocolate', 'liverpool', 'arsenal',
  'chelsea', 'samsung', 'google', 'facebook', 'linkedin', 'matrix', 'ninja', 'hunter', 'ranger', 'thomas',
  'charlie', 'jordan', 'harley', 'tigger', 'buster', 'ginger', 'pepper', 'daniel', 'andrew', 'joshua',
]);

const KEYBOARD_WALKS = [
  '`1234567890-=',
  'qwertyuiop[]\\',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qwertyuiopasdfghjklzxcvbnm',
  '1234567890qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/',
  'qazwsxedcrfvtgbyhnujmikolp',
  'zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/-',
];

const LEET: Readonly<Record<string, string>> = { '@': 'a', '4': 'a', '8': 'b', '(': 'c', '3': 'e', '6': 'g', '1': 'i', '!': 'i', '|': 'l', '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't', '2': 'z' };

function deLeet(text: string): string {
  return [...text].map((char) => LEET[char] ?? char).join('');
}

function isBaseWordWithPadding(password: string): boolean {
  const core = password.replace(/^[\d\W_]+/u, '').replace(/[\d\W_]+$/u, '');
  if (core.length === 0) return false;
  if (BASE_WORDS.has(core) || BASE_WORDS.has(deLeet(core))) return true;
  // A base word repeated (`passwordpassword`, `qwertyqwerty1`) is as weak as the word itself.
  const repeated = /^(.+?)\1+$/u.exec(core);
  return repeated !== null && (BASE_WORDS.has(repeated[1] ?? '') || BASE_WORDS.has(deLeet(repeated[1] ?? '')));
}

function isShortUnitRepeated(password: string): boolean {
  return /^(.{1,4})\1+$/su.test(password);
}

/** Every character one step above (or below) the previous, digits wrapping 9→0 as on a keyboard row. */
function isRun(password: string): boolean {
  const points = [...password].map((char) => char.codePointAt(0) ?? 0);
  const stepOf = (from: number, to: number) => (from === 0x39 && to === 0x30 ? 1 : from === 0x30 && to === 0x39 ? -1 : to - from);
  const first = stepOf(points[0] ?? 0, points[1] ?? 0);
  if (first !== 1 && first !== -1) return false;
  return points.every((point, index) => index === 0 || stepOf(points[index - 1] ?? 0, point) === first);
}

function isKeyboardWalk(password: string): boolean {
  const reversed = [...password].reverse().join('');
  return KEYBOARD_WALKS.some((walk) => walk.includes(password) || walk.includes(reversed));
}

export function isCommonPassword(normalizedLowercase: string): boolean {
  return (
    isShortUnitRepeated(normalizedLowercase) ||
    isRun(normalizedLowercase) ||
    isKeyboardWalk(normalizedLowercase) ||
    isBaseWordWithPadding(normalizedLowercase)
  );
}

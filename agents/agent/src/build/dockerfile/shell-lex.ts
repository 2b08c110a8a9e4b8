/**
 * Docker's word processing for Dockerfile arguments (moby's ShellLex):
 * quotes are removed, escapes applied, and `$VAR`, `${VAR}`,
 * `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
 * `${VAR:?message}` and `${VAR?message}` expanded from `env`.
 * Unset variables expand to nothing.
 */

export type Env = ReadonlyMap<string, string>;

export class SubstitutionError extends Error {}

interface Lexer {
  text: string;
  pos: number;
  escape: string;
  env: Env;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

function peek(lx: Lexer, offset = 0): string {
  return lx.text[lx.pos + offset] ?? "";
}

function readName(lx: Lexer): string {
  let name = "";
  while (lx.pos < lx.text.length && NAME_CHAR.test(peek(lx))) name += lx.text[lx.pos++];
  return name;
}

/** The word inside `${NAME:-word}` up to the matching `}`, processed (quotes, escapes, nested $). */
function readModifierWord(lx: Lexer): string {
  let out = "";
  while (lx.pos < lx.text.length && peek(lx) !== "}") {
    const ch = peek(lx);
    if (ch === lx.escape && lx.pos + 1 < lx.text.length) {
      out += lx.text[lx.pos + 1];
      lx.pos += 2;
    } else if (ch === "$") out += readDollar(lx);
    else if (ch === "'") out += readSingle(lx);
    else if (ch === '"') out += readDouble(lx);
    else {
      out += ch;
      lx.pos += 1;
    }
  }
  if (peek(lx) !== "}") throw new SubstitutionError(`missing "}" in ${JSON.stringify(lx.text)}`);
  lx.pos += 1;
  return out;
}

function readBraced(lx: Lexer): string {
  lx.pos += 1; // "{"
  const name = readName(lx);
  if (name === "" || !NAME_START.test(name[0]!)) {
    throw new SubstitutionError(
      `bad substitution in ${JSON.stringify(lx.text)}: a variable name is expected`,
    );
  }
  const value = lx.env.get(name);
  if (lx.pos >= lx.text.length) throw new SubstitutionError(`missing "}" in ${JSON.stringify(lx.text)}`);
  if (peek(lx) === "}") {
    lx.pos += 1;
    return value ?? "";
  }
  let op = lx.text[lx.pos++] ?? "";
  if (op === ":") op += lx.text[lx.pos++] ?? "";
  if (!["-", "+", "?", ":-", ":+", ":?"].includes(op)) {
    throw new SubstitutionError(`unsupported modifier "${op}" in \${${name}...} (use :- :+ :? - + ?)`);
  }
  const word = readModifierWord(lx);
  const set = value !== undefined && (!op.startsWith(":") || value !== "");
  switch (op.replace(":", "")) {
    case "-":
      return set ? value! : word;
    case "+":
      return set ? word : "";
    default:
      if (!set) throw new SubstitutionError(`${name}: ${word || "is not set"}`);
      return value!;
  }
}

function readDollar(lx: Lexer): string {
  lx.pos += 1; // "$"
  const next = peek(lx);
  if (next === "{") return readBraced(lx);
  if (next !== "" && NAME_START.test(next)) return lx.env.get(readName(lx)) ?? "";
  return "$";
}

function readSingle(lx: Lexer): string {
  const end = lx.text.indexOf("'", lx.pos + 1);
  if (end === -1)
    throw new SubstitutionError(`unexpected end of text: missing ' in ${JSON.stringify(lx.text)}`);
  const out = lx.text.slice(lx.pos + 1, end);
  lx.pos = end + 1;
  return out;
}

function readDouble(lx: Lexer): string {
  lx.pos += 1;
  let out = "";
  for (;;) {
    if (lx.pos >= lx.text.length) {
      throw new SubstitutionError(`unexpected end of text: missing " in ${JSON.stringify(lx.text)}`);
    }
    const ch = peek(lx);
    if (ch === '"') {
      lx.pos += 1;
      return out;
    }
    if (ch === "$") out += readDollar(lx);
    else if (ch === lx.escape && ['"', "$", lx.escape].includes(peek(lx, 1))) {
      out += peek(lx, 1);
      lx.pos += 2;
    } else {
      out += ch;
      lx.pos += 1;
    }
  }
}

/**
 * Process `text` into words: unquoted whitespace separates words (also
 * whitespace from an unquoted expansion, as moby's ProcessWords does).
 */
export function processWords(text: string, env: Env, escapeChar = "\\"): string[] {
  const lx: Lexer = { text, pos: 0, escape: escapeChar, env };
  const words: string[] = [];
  let word = "";
  let inWord = false;
  const flush = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  while (lx.pos < text.length) {
    const ch = peek(lx);
    if (/\s/.test(ch)) {
      flush();
      lx.pos += 1;
    } else if (ch === lx.escape) {
      inWord = true;
      if (lx.pos + 1 < text.length) word += text[lx.pos + 1];
      lx.pos += 2;
    } else if (ch === "'") {
      inWord = true;
      word += readSingle(lx);
    } else if (ch === '"') {
      inWord = true;
      word += readDouble(lx);
    } else if (ch === "$") {
      const value = readDollar(lx);
      const parts = value.split(/\s+/);
      parts.forEach((part, i) => {
        if (i > 0) flush();
        if (part !== "") {
          word += part;
          inWord = true;
        }
      });
    } else {
      inWord = true;
      word += ch;
      lx.pos += 1;
    }
  }
  flush();
  return words;
}

/** Process `text` as one word: quotes removed, escapes applied, variables expanded; whitespace kept. */
export function processWord(text: string, env: Env, escapeChar = "\\"): string {
  const lx: Lexer = { text, pos: 0, escape: escapeChar, env };
  let out = "";
  while (lx.pos < text.length) {
    const ch = peek(lx);
    if (ch === lx.escape) {
      if (lx.pos + 1 < text.length) out += text[lx.pos + 1];
      lx.pos += 2;
    } else if (ch === "'") out += readSingle(lx);
    else if (ch === '"') out += readDouble(lx);
    else if (ch === "$") out += readDollar(lx);
    else {
      out += ch;
      lx.pos += 1;
    }
  }
  return out;
}

/**
 * Split `text` into words at unquoted whitespace without processing them
 * (quotes and escapes stay), for ENV and LABEL's `key=value` pairs.
 */
export function splitRawWords(text: string, escapeChar = "\\"): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (ch === escapeChar && i + 1 < text.length && quote !== "'") {
      word += ch + text[i + 1];
      i += 1;
    } else if (quote) {
      word += ch;
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== "") words.push(word);
      word = "";
    } else word += ch;
  }
  if (quote)
    throw new SubstitutionError(`unexpected end of text: missing ${quote} in ${JSON.stringify(text)}`);
  if (word !== "") words.push(word);
  return words;
}

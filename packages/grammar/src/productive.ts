// @module Can a grammar ever finish? Productivity of every rule of xgrammar's printed (normalized) BNF.

type Expr =
  | { k: 'terminal' }
  | { k: 'rule'; name: string }
  | { k: 'seq'; items: Expr[] }
  | { k: 'alt'; items: Expr[] }
  /** A repetition: productive when it may repeat zero times, else when its body is. */
  | { k: 'repeat'; body: Expr; min: number };

/**
 * The rules with no finite expansion (e.g. `root ::= "a" root`), in order of appearance: a
 * generation that enters one can only end at max_tokens. Empty when every rule can finish.
 * Input is Grammar.toString() output: `name ::= expr` lines, `(=…)` lookaheads, TagDispatch(…) blocks.
 */
export function unproductiveRules(printed: string): string[] {
  const rules = new Map<string, Expr>();
  for (const [name, body] of ruleTexts(printed)) rules.set(name, new Parser(body).parse());
  const productive = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, expr] of rules) {
      if (!productive.has(name) && finishes(expr, productive)) {
        productive.add(name);
        changed = true;
      }
    }
  }
  return [...rules.keys()].filter((n) => !productive.has(n));
}

function finishes(e: Expr, productive: ReadonlySet<string>): boolean {
  switch (e.k) {
    case 'terminal':
      return true;
    case 'rule':
      return productive.has(e.name);
    case 'seq':
      return e.items.every((x) => finishes(x, productive));
    case 'alt':
      return e.items.some((x) => finishes(x, productive));
    case 'repeat':
      return e.min === 0 || finishes(e.body, productive);
  }
}

/** `name ::= body` pairs; a body runs on over lines that do not start a new rule (TagDispatch). */
function ruleTexts(printed: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of printed.split('\n')) {
    const m = /^([A-Za-z_][\w-]*) ::= (.*)$/.exec(line);
    if (m !== null) out.push([m[1]!, m[2]!]);
    else if (out.length > 0 && line.trim() !== '') out[out.length - 1]![1] += `\n${line}`;
  }
  return out;
}

class Parser {
  #at = 0;
  constructor(readonly s: string) {}

  parse(): Expr {
    const e = this.#alt();
    return e;
  }

  #ws(): void {
    while (this.#at < this.s.length && /\s/.test(this.s[this.#at]!)) this.#at++;
  }

  #alt(): Expr {
    const items = [this.#seq()];
    this.#ws();
    while (this.s[this.#at] === '|') {
      this.#at++;
      items.push(this.#seq());
      this.#ws();
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  #seq(): Expr {
    const items: Expr[] = [];
    for (;;) {
      this.#ws();
      const c = this.s[this.#at];
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.#atom();
      if (atom !== null) items.push(this.#suffix(atom));
    }
    return items.length === 1 ? items[0]! : { k: 'seq', items };
  }

  /** One element; null for a lookahead `(=…)`, which constrains what follows but never blocks finishing. */
  #atom(): Expr | null {
    const c = this.s[this.#at]!;
    if (c === '"') {
      this.#skipQuoted('"');
      return { k: 'terminal' };
    }
    if (c === '[') {
      this.#skipQuoted(']');
      return { k: 'terminal' };
    }
    if (c === '(') {
      this.#at++;
      const lookahead = this.s[this.#at] === '=';
      if (lookahead) this.#at++;
      const inner = this.#alt();
      this.#ws();
      if (this.s[this.#at] === ')') this.#at++;
      return lookahead ? null : inner;
    }
    const name = /^[A-Za-z_][\w-]*/.exec(this.s.slice(this.#at))?.[0];
    if (name === undefined) throw new Error(`unexpected ${JSON.stringify(c)} in grammar rule ${JSON.stringify(this.s.slice(0, 80))}`);
    this.#at += name.length;
    if (name === 'TagDispatch' && this.s[this.#at] === '(') {
      // Free text between tags that may end at EOS: finishes (the tags' rules are checked on their own).
      this.#skipBalanced();
      return { k: 'terminal' };
    }
    return { k: 'rule', name };
  }

  #suffix(e: Expr): Expr {
    const c = this.s[this.#at];
    if (c === '*' || c === '?') {
      this.#at++;
      return { k: 'repeat', body: e, min: 0 };
    }
    if (c === '+') {
      this.#at++;
      return { k: 'repeat', body: e, min: 1 };
    }
    if (c === '{') {
      const m = /^\{(\d*)(?:,\d*)?\}/.exec(this.s.slice(this.#at));
      if (m !== null) {
        this.#at += m[0].length;
        return { k: 'repeat', body: e, min: Number(m[1] || 0) };
      }
    }
    return e;
  }

  /** Past a quoted literal or a character class, honouring backslash escapes. */
  #skipQuoted(close: string): void {
    this.#at++;
    while (this.#at < this.s.length && this.s[this.#at] !== close) this.#at += this.s[this.#at] === '\\' ? 2 : 1;
    this.#at++;
  }

  /** Past a parenthesised block, quotes honoured. */
  #skipBalanced(): void {
    let depth = 0;
    do {
      const c = this.s[this.#at];
      if (c === '"') {
        this.#skipQuoted('"');
        continue;
      }
      if (c === '(') depth++;
      if (c === ')') depth--;
      this.#at++;
    } while (depth > 0 && this.#at < this.s.length);
  }
}

// @module IncrementalDetokenizer: streams generated ids as text, never splitting a multi-byte character.
import type { TextTokenizer } from './tokenizer.ts';

export interface DetokenizerOptions {
  /** Leave special tokens (EOS, ...) out of the text (default true, as TGI and vLLM do). */
  skipSpecialTokens?: boolean;
  /** The prompt's ids: its last few serve as decoding context, so a first token's leading space survives. */
  promptIds?: readonly number[];
}

/** How many trailing prompt ids give context to the first generated token (vLLM and TGI use 5). */
const PROMPT_CONTEXT_TOKENS = 5;
const REPLACEMENT_CHAR = '\uFFFD';

/**
 * The TGI/vLLM prefix-offset/read-offset technique: text is the difference between decoding a short window
 * ending at the newest id and the same window without the not-yet-emitted ids. Decoding a window (rather than
 * one id) keeps decoder behaviour that depends on neighbours right, e.g. SentencePiece's leading-space strip
 * and byte-fallback bytes fusing into one character. While the window's text ends in U+FFFD, an incomplete
 * UTF-8 sequence may still be completed by the next ids, so nothing is emitted yet.
 */
export class IncrementalDetokenizer {
  private readonly ids: number[];
  /** Start of the decoding window. */
  private prefixOffset: number;
  /** Ids before this have been emitted as text. */
  private readOffset: number;
  private readonly skipSpecialTokens: boolean;
  private generated = 0;

  constructor(
    private readonly tokenizer: TextTokenizer,
    opts: DetokenizerOptions = {},
  ) {
    this.skipSpecialTokens = opts.skipSpecialTokens ?? true;
    this.ids = (opts.promptIds ?? []).slice(-PROMPT_CONTEXT_TOKENS);
    this.prefixOffset = 0;
    this.readOffset = this.ids.length;
  }

  /** Number of ids pushed so far. */
  get tokenCount(): number {
    return this.generated;
  }

  /** Adds one generated id; returns the text that is now complete ('' while a character is still incomplete). */
  push(id: number): string {
    this.ids.push(id);
    this.generated++;
    const prefixText = this.decode(this.prefixOffset, this.readOffset);
    const fullText = this.decode(this.prefixOffset, this.ids.length);
    if (fullText.length <= prefixText.length || fullText.endsWith(REPLACEMENT_CHAR)) return '';
    return this.advance(prefixText, fullText);
  }

  /** Returns whatever is held back (an incomplete sequence that never completed is emitted as decoded). */
  flush(): string {
    if (this.readOffset === this.ids.length) return '';
    const prefixText = this.decode(this.prefixOffset, this.readOffset);
    const fullText = this.decode(this.prefixOffset, this.ids.length);
    if (fullText.length <= prefixText.length) {
      this.readOffset = this.ids.length;
      return '';
    }
    return this.advance(prefixText, fullText);
  }

  private advance(prefixText: string, fullText: string): string {
    // A window normally only grows at its end; if the decoder rewrote earlier text, emit from the first difference.
    let start = prefixText.length;
    if (!fullText.startsWith(prefixText)) {
      start = 0;
      while (start < prefixText.length && prefixText[start] === fullText[start]) start++;
    }
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    // Keep the id list short: the window never reaches back before prefixOffset.
    if (this.prefixOffset > 64) {
      this.ids.splice(0, this.prefixOffset);
      this.readOffset -= this.prefixOffset;
      this.prefixOffset = 0;
    }
    return fullText.slice(start);
  }

  private decode(from: number, to: number): string {
    if (to <= from) return '';
    // No clean-up of tokenization spaces: it rewrites text across window boundaries and would make diffs wrong.
    return this.tokenizer.decode(this.ids.slice(from, to), {
      skipSpecialTokens: this.skipSpecialTokens,
      cleanUpTokenizationSpaces: false,
    });
  }
}

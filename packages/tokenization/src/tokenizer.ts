// @module TextTokenizer: encode/decode over a Hugging Face tokenizer.json, with BOS/EOS handling and per-token text.
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizerFiles } from '@tessera/model-files';
import { maxBytesPerToken } from './bytes-per-token.ts';
import { byteLevelDecodeTable, usesByteLevel } from './token-bytes.ts';

export interface EncodeOptions {
  /** Add BOS/EOS etc. as the model expects (default true). Pass false for chat-template output, which carries its own BOS. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, added special tokens) from the text (default false). */
  skipSpecialTokens?: boolean;
  /** transformers' clean_up_tokenization_spaces (" ." → "."); default: tokenizer_config's value, else false. */
  cleanUpTokenizationSpaces?: boolean;
}

/** A special token in tokenizer_config.json is either a string or an AddedToken-like `{content: ...}` object. */
function specialTokenString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** Post-processor types that insert special tokens themselves (ByteLevel, for one, does not). */
const ADDING_POST_PROCESSORS = new Set(['TemplateProcessing', 'BertProcessing', 'RobertaProcessing']);

function postProcessorAddsSpecialTokens(config: unknown): boolean {
  if (config === null || typeof config !== 'object') return false;
  const pp = config as { type?: unknown; processors?: unknown };
  if (typeof pp.type === 'string' && ADDING_POST_PROCESSORS.has(pp.type)) return true;
  if (pp.type === 'Sequence' && Array.isArray(pp.processors)) return pp.processors.some(postProcessorAddsSpecialTokens);
  return false;
}

/** A vocabulary for the grammar engine: pieces by id and how they encode bytes (xgrammar's vocab types). */
export interface GrammarVocabulary {
  pieces: string[];
  kind: 'byte_level' | 'byte_fallback' | 'raw';
}

export class TextTokenizer {
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;

  private readonly tokenizer: Tokenizer;
  private readonly specialIds: Set<number>;
  private readonly idToPiece: Map<number, string>;
  /** Prepend BOS / append EOS ourselves: only when tokenizer.json has no post-processor adding special tokens. */
  private readonly manualBos: boolean;
  private readonly manualEos: boolean;
  private readonly cleanUpSpaces: boolean;
  private readonly byteFallback: boolean;
  private readonly byteLevel: boolean;
  /** A token whose text is stable alone and after itself: decode([anchor, id]) minus the anchor gives id's text in context. */
  private readonly anchor: { id: number; text: string } | null;
  private readonly tokenTextCache = new Map<number, string>();
  /**
   * The most input bytes one token stands for (null: unbounded for this tokenizer), so a text of B bytes
   * has at least ceil(B / maxBytesPerToken) tokens: prompts that cannot fit are refused before tokenizing.
   */
  readonly maxBytesPerToken: number | null;

  private constructor(files: TokenizerFiles) {
    const json = files.tokenizerJson;
    const config = files.tokenizerConfig;
    // The library reads a few config fields (clean_up_tokenization_spaces, additional_special_tokens, ...).
    this.tokenizer = new Tokenizer(json, config);
    const vocab = this.tokenizer.get_vocab(true);
    this.idToPiece = new Map();
    let maxId = -1;
    for (const [piece, id] of vocab) {
      this.idToPiece.set(id, piece);
      if (id > maxId) maxId = id;
    }
    this.vocabSize = maxId + 1;

    this.specialIds = new Set();
    for (const [id, added] of this.tokenizer.get_added_tokens_decoder()) if (added.special) this.specialIds.add(id);
    const extra = Array.isArray(config.additional_special_tokens) ? config.additional_special_tokens : [];
    for (const token of extra) {
      const id = this.lookup(specialTokenString(token));
      if (id !== null) this.specialIds.add(id);
    }

    this.bosToken = specialTokenString(config.bos_token);
    this.eosToken = specialTokenString(config.eos_token);
    this.bosTokenId = this.lookup(this.bosToken);
    this.eosTokenId = this.lookup(this.eosToken);

    const postProcessorAdds = postProcessorAddsSpecialTokens(json.post_processor);
    this.manualBos = !postProcessorAdds && config.add_bos_token === true && this.bosTokenId !== null;
    this.manualEos = !postProcessorAdds && config.add_eos_token === true && this.eosTokenId !== null;
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
    const model = json.model as { byte_fallback?: unknown } | undefined;
    this.byteFallback = model?.byte_fallback === true;
    this.byteLevel = usesByteLevel(json.decoder);
    this.anchor = this.findAnchor();
    this.maxBytesPerToken = maxBytesPerToken(json, this.idToPiece.values());
  }

  /** Fewest tokens `text` can encode to (special tokens aside), from its UTF-8 length alone; 0 when unknown. */
  minTokens(text: string): number {
    return this.maxBytesPerToken === null ? 0 : Math.ceil(Buffer.byteLength(text) / this.maxBytesPerToken);
  }

  static fromFiles(files: TokenizerFiles): TextTokenizer {
    return new TextTokenizer(files);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecialTokens ?? true;
    const ids = this.tokenizer.encode(text, { add_special_tokens: addSpecial }).ids;
    if (addSpecial && this.manualBos && this.bosTokenId !== null) ids.unshift(this.bosTokenId);
    if (addSpecial && this.manualEos && this.eosTokenId !== null) ids.push(this.eosTokenId);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces ?? this.cleanUpSpaces,
    });
  }

  /**
   * The vocabulary as constrained decoding needs it (@tessera/grammar): each id's piece, with special
   * tokens blanked so that no grammar can spell them as text, and how pieces map to bytes.
   */
  grammarVocabulary(): GrammarVocabulary {
    const pieces: string[] = [];
    for (let id = 0; id < this.vocabSize; id++) pieces.push(this.specialIds.has(id) ? '' : (this.idToPiece.get(id) ?? ''));
    return { pieces, kind: this.byteLevel ? 'byte_level' : this.byteFallback ? 'byte_fallback' : 'raw' };
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The raw vocabulary piece (e.g. "▁there", "<0xE6>", "Ġthere"), or null for an id outside the vocabulary. */
  piece(id: number): string | null {
    return this.idToPiece.get(id) ?? null;
  }

  /** A piece's id, or null if it is not in the vocabulary. */
  tokenId(piece: string): number | null {
    return this.lookup(piece);
  }

  /**
   * One token's text as it reads mid-sequence (" there", not "▁there" nor the start-stripped "there"); a lone byte
   * of a multi-byte character reads as U+FFFD (see tokenBytes for its bytes).
   */
  tokenText(id: number): string {
    const cached = this.tokenTextCache.get(id);
    if (cached !== undefined) return cached;
    let text: string;
    if (this.anchor !== null) {
      const both = this.decode([this.anchor.id, id], { cleanUpTokenizationSpaces: false });
      text = both.startsWith(this.anchor.text) ? both.slice(this.anchor.text.length) : this.decode([id]);
    } else {
      text = this.decode([id], { cleanUpTokenizationSpaces: false });
    }
    this.tokenTextCache.set(id, text);
    return text;
  }

  /** The UTF-8 bytes one token stands for (a byte-fallback or byte-level token may be part of a character). */
  tokenBytes(id: number): number[] {
    const piece = this.idToPiece.get(id);
    if (piece !== undefined && !this.specialIds.has(id)) {
      if (this.byteFallback && /^<0x[0-9A-Fa-f]{2}>$/.test(piece)) return [parseInt(piece.slice(3, 5), 16)];
      if (this.byteLevel) {
        const table = byteLevelDecodeTable();
        const bytes: number[] = [];
        for (const ch of piece) {
          const b = table.get(ch);
          if (b === undefined) return [...Buffer.from(this.tokenText(id), 'utf8')];
          bytes.push(b);
        }
        return bytes;
      }
    }
    return [...Buffer.from(this.tokenText(id), 'utf8')];
  }

  private lookup(piece: string | null): number | null {
    if (piece === null) return null;
    return this.tokenizer.token_to_id(piece) ?? null;
  }

  private findAnchor(): { id: number; text: string } | null {
    for (const candidate of ['a', 'e', 'x', 't', 'o', '0', 'A']) {
      const id = this.lookup(candidate);
      if (id === null || this.specialIds.has(id)) continue;
      const one = this.decode([id], { cleanUpTokenizationSpaces: false });
      const two = this.decode([id, id], { cleanUpTokenizationSpaces: false });
      if (one.length > 0 && two === one + one) return { id, text: one };
    }
    return null;
  }
}

// @module Tokenizer routes: /tokenize (TGI `inputs` or vLLM `prompt`/`messages`), /detokenize (vLLM), /chat_tokenize (TGI).
import { Router, type Request, type Response } from 'express';
import { IncrementalDetokenizer, type TextTokenizer } from '@tessera/tokenization';
import { chatInput } from '../api/chat.ts';
import { isObject } from '../api/json-shape.ts';
import { ValidationError } from '../errors.ts';
import type { Validator } from '../validation/validate.ts';
import { encodeBounded } from '../validation/bounded-encode.ts';

export interface TokenizeRouteDeps {
  tokenizer: TextTokenizer;
  validator: () => Validator;
  /** vLLM's `max_model_len` (max_total_tokens). */
  maxModelLen: number;
}

interface TgiTokenOffset {
  id: number;
  text: string;
  start: number;
  stop: number;
}

/** TGI's shape: each token's text with its character offsets in the decoded text. */
function withOffsets(tok: TextTokenizer, ids: number[]): TgiTokenOffset[] {
  const detok = new IncrementalDetokenizer(tok, { skipSpecialTokens: true });
  let offset = 0;
  return ids.map((id, i) => {
    let piece = detok.push(id);
    if (i === ids.length - 1) piece += detok.flush();
    const start = offset;
    offset += piece.length;
    return { id, text: piece, start, stop: offset };
  });
}

function optionalBool(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ValidationError(`\`${key}\` must be a boolean`, key);
  return v;
}

/** Messages (+ template options) → the chat template's text, through the validator's rules. */
function renderChat(validator: Validator, body: Record<string, unknown>): string {
  return validator.renderChat(chatInput(body));
}

export function tokenizeRoutes(deps: TokenizeRouteDeps): Router {
  const router = Router();
  const tok = deps.tokenizer;
  /** Texts longer than the model's context are refused once a prefix proves it (tokenizing all of a huge one blocks the event loop). */
  const encode = (text: string, addSpecialTokens: boolean, field: string): number[] => {
    const r = encodeBounded((t) => tok.encode(t, { addSpecialTokens }), text, deps.maxModelLen);
    if ('ids' in r) return r.ids;
    throw new ValidationError(`\`${field}\` has more than ${r.atLeast} tokens: longer than the model's context (max_model_len ${deps.maxModelLen})`, field);
  };

  router.post('/tokenize', (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
    const addSpecial = optionalBool(body, 'add_special_tokens');
    if (body.inputs !== undefined) {
      // TGI: {inputs} → [{id, text, start, stop}]
      if (typeof body.inputs !== 'string') throw new ValidationError('`inputs` must be a string', 'inputs');
      res.json(withOffsets(tok, encode(body.inputs, addSpecial ?? true, 'inputs')));
      return;
    }
    // vLLM: {prompt} or {messages} → {count, max_model_len, tokens[, token_strs]}
    let ids: number[];
    if (body.messages !== undefined) ids = encode(renderChat(deps.validator(), body), addSpecial ?? false, 'messages');
    else if (body.prompt !== undefined) {
      if (typeof body.prompt !== 'string') throw new ValidationError('`prompt` must be a string', 'prompt');
      ids = deps.validator().tokenizePrompt({ kind: 'prompt', value: body.prompt, field: 'prompt' }, addSpecial, deps.maxModelLen).ids;
    } else throw new ValidationError('missing field `inputs` (TGI), `prompt` or `messages` (vLLM)', 'prompt');
    const out: Record<string, unknown> = { count: ids.length, max_model_len: deps.maxModelLen, tokens: ids };
    if (optionalBool(body, 'return_token_strs') === true) out.token_strs = ids.map((id) => tok.piece(id));
    res.json(out);
  });

  router.post('/detokenize', (req: Request, res: Response) => {
    const body: unknown = req.body;
    const ids = isObject(body) ? body.tokens : undefined;
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < tok.vocabSize)) {
      throw new ValidationError(`\`tokens\` must be an array of token ids in [0, ${tok.vocabSize - 1}]`, 'tokens');
    }
    res.json({ prompt: tok.decode(ids as number[]) });
  });

  // TGI: an OpenAI chat request → the templated text and its tokens with offsets.
  router.post('/chat_tokenize', (req: Request, res: Response) => {
    const body: unknown = req.body;
    if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
    if (body.messages === undefined) throw new ValidationError('missing field `messages`', 'messages');
    const templated = renderChat(deps.validator(), body);
    const ids = encode(templated, optionalBool(body, 'add_special_tokens') ?? false, 'messages');
    res.json({ tokenize_response: withOffsets(tok, ids), templated_text: templated });
  });

  return router;
}

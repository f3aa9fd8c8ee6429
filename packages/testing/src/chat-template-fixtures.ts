// @module Real chat templates kept as test fixtures (packages/tokenization/fixtures/chat-templates/NAME.jinja).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The path of fixture NAME (`qwen3`, `llama3.1`, `mistral-nemo`, …), for a `--chat-template` flag. */
export function chatTemplateFixturePath(name: string): string {
  return fileURLToPath(new URL(`../../tokenization/fixtures/chat-templates/${name}.jinja`, import.meta.url));
}

/** The text of fixture NAME. */
export function chatTemplateFixture(name: string): string {
  return fs.readFileSync(chatTemplateFixturePath(name), 'utf8');
}

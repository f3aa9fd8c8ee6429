// @module The benchmark's prompts: a fixed built-in set, a loader for --prompts FILE, and the request→prompt mapping.
import { readFile } from 'node:fs/promises';

const STORY_OPENINGS = [
  'Once upon a time',
  'Once upon a time, there was a little girl named Lily.',
  'Tom and his dog went to the park.',
  'One day, a small bird found a shiny key.',
  'The sun was hot, so Ben went to the lake.',
  'Mia had a red ball. She liked to',
  'There was a big tree in the middle of the town.',
  'Sam wanted to build a tall tower out of blocks.',
  'A little frog lived by a quiet pond. Every morning he',
  'The old man had a boat, and every day he went fishing.',
  'Anna found a box under her bed. Inside the box',
  'It was raining, and the cat did not want to go outside.',
  'Max and Sue were best friends. One day they had a fight about',
  'In a small village near the mountains, there lived a kind baker.',
  'The moon was big and bright. Tim looked out of his window and saw',
  'Lucy wanted a puppy for her birthday, but her mom said',
];

const LONG_STORY_OPENINGS = [
  'Once upon a time, in a land far away, there was a princess who loved to read books. She read in the morning, she read at lunch, and she read under her blanket at night. One day she found a book with no words in it at all, only pictures of a door. That night',
  'Jack lived on a farm with his grandpa, two cows, a goat and a very loud rooster. Every morning the rooster woke everyone up before the sun. One morning the rooster did not crow, and Jack went to the barn to see what was wrong. When he opened the door',
  "The children in Miss Rose's class were excited because today was the day of the school fair. There would be games, cakes, a big slide and a man who could make animals out of balloons. Sara had saved her coins for a whole month, and she knew exactly what she wanted to buy:",
  'A tiny robot named Bolt lived in a toy shop. At night, when the shop was closed and the lights were off, Bolt would wake up and walk along the shelves to talk to the other toys. The teddy bear was wise, the toy train was grumpy, and the doll in the window was always sad. One night Bolt asked her why, and she said',
  'Far out at sea there was an island where only turtles lived. They were slow and happy, and nothing ever changed, until the day a little boat washed up on the sand. In the boat was a girl who was lost and very hungry. The oldest turtle came to her and',
  'Every winter the river froze and the children of the village skated on it from morning until dark. This year Peter was finally old enough to join them. His sister gave him her old skates, which were a little too big, and told him to stay close to the shore. But when Peter saw the other children racing to the middle of the river,',
  'Grandma kept a jar of buttons on the kitchen shelf. There were red buttons, blue buttons, buttons shaped like stars and one big golden button that nobody was allowed to touch. When Grandma went to the garden, Emma climbed onto a chair, opened the jar and picked up the golden button. It was warm, and then',
  'The dragon on the hill was not scary at all. He liked flowers, warm soup and long naps in the sun. But the people of the town did not know that, because nobody had ever gone up the hill to say hello. One brave boy decided that today he would go, and he packed a bag with bread, apples and a blanket.',
];

const INSTRUCTIONS = [
  'Write a short story about a cat who learns to share.',
  'Tell me a bedtime story about a sleepy bear.',
  'Write a story for a child about being brave at the doctor.',
  'Write a short poem about the rain.',
  'Tell a story where a dog and a duck become friends.',
  'Write a story that starts with a lost shoe and ends with a party.',
  'Explain to a five year old why the sky is blue.',
  'Describe a sunny day at the beach in three sentences.',
  'Write a short story about a boy who plants a seed and waits for it to grow.',
  'Tell me a funny story about a fish who wants to fly.',
  'Write a story about two friends who find a treasure map in the attic.',
  'Write a happy story about a rabbit who is afraid of the dark, and how his mother helps him.',
  'List three things a good friend does, then tell a short story that shows one of them.',
  'Write a story about a girl who builds a kite with her father and flies it on a windy hill.',
  'Tell a story about a little car that is too slow to win a race but helps a friend instead.',
  'Write a gentle story about a snowman who wonders what summer is like.',
];

const SHORT_PROMPTS = ['Hello', 'The cat', 'Lily saw a', 'Once there was a', 'The big dog', 'Tim was sad because', 'She opened the door and', 'He ran to the'];

const MIXED_PROMPTS = [
  'Lily and Ben played in the garden all day. When it got dark, they',
  'The teacher asked the class to draw their favourite animal. Tom drew',
  'Write a story about a kind giant who lives in the clouds.',
  'The little boat sailed across the big blue sea until',
  "Mom made a cake for Dad's birthday, but the dog",
  'Tell me a story about a star that fell from the sky and landed in a garden.',
  'There once was a mouse who was very good at finding cheese. One day he found',
  'Write a story about a tree that could talk, and what it told a little girl.',
  'Sue had never seen snow before. When she woke up and looked outside,',
  'The kids built a fort out of pillows and blankets. Inside the fort,',
  'Write a story in which a lonely robot makes a friend.',
  'Ben lost his favourite toy at the park. He looked under the slide, behind the swings and',
  'A girl named Zoe wanted to be a painter. Every day she',
  "The farmer's pig escaped and ran all the way to the town square, where",
  'Write a short story about a brave little ant.',
  'Tim and his sister went to the zoo. The first animal they saw was',
];

/** 64 deterministic prompts of varied length: story openings (short and long), instructions, fragments. */
export const BUILTIN_PROMPTS: readonly string[] = Object.freeze([
  ...STORY_OPENINGS,
  ...LONG_STORY_OPENINGS,
  ...INSTRUCTIONS,
  ...SHORT_PROMPTS,
  ...MIXED_PROMPTS,
]);

/**
 * Reads prompts from a file: a JSON array of strings, or JSON Lines with one `{"prompt": "…"}`
 * (or a bare JSON string) per line. Throws with the file name and line on bad input.
 */
export async function loadPrompts(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return parsePrompts(text, file);
}

export function parsePrompts(text: string, source = 'prompts'): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`${source}: not valid JSON: ${(err as Error).message}`);
    }
    const arr = parsed as unknown[];
    const bad = arr.findIndex((p) => typeof p !== 'string');
    if (bad !== -1) throw new Error(`${source}: element ${bad} of the JSON array is not a string`);
    return nonEmpty(arr as string[], source);
  }
  const prompts: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`${source}:${i + 1}: not valid JSON (expected {"prompt": "..."} per line)`);
    }
    if (typeof parsed === 'string') prompts.push(parsed);
    else if (parsed && typeof parsed === 'object' && typeof (parsed as { prompt?: unknown }).prompt === 'string') {
      prompts.push((parsed as { prompt: string }).prompt);
    } else throw new Error(`${source}:${i + 1}: expected an object with a string "prompt" field`);
  });
  return nonEmpty(prompts, source);
}

function nonEmpty(prompts: string[], source: string): string[] {
  if (prompts.length === 0) throw new Error(`${source}: no prompts found`);
  return prompts;
}

/** mulberry32: a tiny seeded PRNG, so one seed gives the same prompt order on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Prompt index for each of `count` requests: request i uses prompt i mod len. Seed 0 keeps that
 * order; any other seed applies one fixed (seeded Fisher–Yates) permutation of the prompt list.
 */
export function promptOrder(count: number, promptCount: number, seed: number): number[] {
  const perm = Array.from({ length: promptCount }, (_, i) => i);
  if (seed !== 0) {
    const rand = mulberry32(seed);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
  }
  return Array.from({ length: count }, (_, i) => perm[i % promptCount]!);
}

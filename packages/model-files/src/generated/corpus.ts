// @module The embedded English training text for the generated model's BPE tokenizer (self-written stories and public-domain passages; data, not code).

const STORIES = `
Once upon a time, there was a little girl named Lily. She lived in a small house near the woods with her mother and her father. Every morning she went outside to look at the sky. One day she saw a big red bird sitting on the fence. "Hello, bird," said Lily. "What is your name?" The bird did not answer. It just looked at her and sang a happy song. Lily smiled and sang with it. After that day, the bird came back every morning, and they sang together until the sun was high.

Once upon a time, there was a boy named Tom. Tom had a blue ball that he loved very much. He played with it in the park every day. One day the ball rolled into the pond. Tom was sad. He could not swim, and the water was deep. A kind duck saw the ball and pushed it back to the shore with its beak. Tom was so happy! He said, "Thank you, duck!" The duck quacked and swam away. From then on, Tom always brought bread for the duck when he went to the park.

One day, a little dog named Max found a shiny key in the grass. He did not know what it was for. He carried it in his mouth and walked all over the town. He tried the key on the baker's door, but it did not fit. He tried it on the old red gate, but it did not fit. At last he came to a tiny wooden box under a tree. The key fit! Inside the box there was a note that said, "Be kind to your friends." Max wagged his tail. He liked the note more than any treasure.

Sara and Ben were best friends. They liked to build tall towers with blocks. One afternoon, they built the tallest tower ever. It was taller than Ben! Then the cat jumped on the table and the tower fell down with a loud crash. Ben wanted to cry, but Sara laughed. "Let's build it again," she said, "and this time we will make it even taller." So they did, and the cat watched them from the window.

There was once a small frog who lived on a green leaf in a quiet pond. The frog wanted to see the world. One morning he jumped from leaf to leaf until he reached the edge of the pond. He saw a road, a farm, and a big hill. He climbed the hill and looked around. The world was very big and very beautiful. When the moon came up, the frog felt tired, and he hopped all the way home. "The world is nice," he said, "but my pond is the best place of all."

Anna had a garden with many flowers. There were red roses, yellow sunflowers, and little white daisies. Every day she gave them water and talked to them. One summer there was no rain for a long time. The flowers began to droop. Anna carried water from the well in a heavy bucket, again and again. Her arms hurt, but she did not stop. When the rain finally came, all the flowers stood up tall and bright. Anna danced in the rain, and the flowers seemed to dance with her.

Once there was a brave little mouse named Pip. Pip lived in a hole in the kitchen wall. At night he came out to look for crumbs. One night he heard a noise. It was the big gray cat! Pip hid behind a cup and held his breath. The cat sniffed and sniffed, then walked away. Pip found a piece of cheese and ran back to his hole as fast as he could. He shared the cheese with his brothers and sisters, and they all had a feast.

Tim wanted to fly a kite. He asked his dad to help him make one. They used paper, string, and two thin sticks. Tim painted a big yellow sun on the paper. When the kite was ready, they went to the top of the hill where the wind was strong. Tim ran, and the kite went up, up, up into the sky. It danced with the clouds. Tim laughed and held the string tight. "Look, Dad! My sun is flying!"

Mia found a little lost kitten in the rain. The kitten was wet and cold and very hungry. Mia wrapped it in her scarf and took it home. Her mom gave the kitten some warm milk. The kitten drank it all and then fell asleep on Mia's lap. The next day Mia made signs and put them up around the town. Nobody came for the kitten, so Mia's mom said she could keep it. Mia named the kitten Sunny, because it made every day feel bright.

In a big forest, there lived an old owl. The owl was very wise. All the animals came to ask him questions. The rabbit asked, "Why is the sky blue?" The squirrel asked, "Where does the wind go?" The bear asked, "When will spring come back?" The owl thought for a long time and answered each question slowly and kindly. One day a little bird asked, "Owl, who answers your questions?" The owl laughed. "The stars do," he said, "if I listen carefully."

Jack and his sister Emma went to the beach. They built a sand castle with four towers and a deep moat. Emma found pretty shells and put them on the walls. Jack dug a long river to bring water to the moat. Then a big wave came and washed half of the castle away. They looked at each other and laughed. "The sea wanted to play too," said Emma. They started building again, a little farther from the water.

A little train named Toot carried toys to the children in the mountains. The hills were steep, and Toot was small. One snowy day the track went up a very high hill. Toot puffed and puffed. "I think I can, I think I can," he said. Slowly, slowly, he climbed to the top. Then he rolled down the other side, faster and faster, and all the children cheered when he arrived with their toys.

Lucy had a red balloon. She held it tight all the way to school. At lunch time the wind pulled the string out of her hand, and the balloon floated away. Lucy watched it go higher and higher until it was only a tiny dot. She felt sad, but her friend Sam said, "Maybe it will land in another town, and another girl will find it and smile." Lucy thought about that, and she smiled too.

Once upon a time, in a land far away, there was a king who loved to eat cake. He ate cake for breakfast, cake for lunch, and cake for dinner. One day the royal baker was sick, and there was no cake. The king was very grumpy. His daughter, the princess, went to the kitchen and baked a cake all by herself. It was a little burnt and a little flat, but the king said it was the best cake he had ever eaten, because it was made with love.

Sam liked to count things. He counted the steps to school: one hundred and twelve. He counted the birds on the wire: seven. He counted the apples in the bowl: three, then two, after he ate one. His teacher asked the class, "How many days are in a week?" Sam said, "Seven!" "How many months are in a year?" "Twelve!" The teacher smiled. "Sam, you are very good at numbers."

The sun was warm and the grass was soft. A fat bumblebee buzzed from flower to flower. It was looking for sweet nectar. A little girl named Rosa watched it carefully. She was not afraid, because her grandmother had told her that bees are friends to the garden. The bee landed on her sleeve for a moment, then flew away to the purple clover. Rosa waved goodbye.

Ben had a new pair of red boots. He wanted to jump in every puddle. After the storm, there were puddles everywhere. Splash! Splash! Splash! Ben jumped in the biggest puddle of all, and water went all over his mom. She was surprised, and then she laughed, and then she jumped in the puddle too. They walked home wet and happy, and they drank hot chocolate by the fire.

There once was a turtle who was very slow. The other animals liked to tease him. "You will never win a race," they said. The turtle just smiled. One day the hare said, "Let's have a race to the big oak tree." The hare ran fast and was soon far ahead, so he lay down for a nap. The turtle kept walking, step by step, and never stopped. When the hare woke up, the turtle was already at the tree. Slow and steady wins the race.

Nina wanted to be an astronaut. She made a rocket out of a big cardboard box. She drew buttons and windows and a big round door. She put on her dad's old helmet and climbed inside. "Three, two, one, blast off!" she shouted. In her mind, she flew past the moon and the stars and saw the earth, blue and white and round. When her mom called her for dinner, she landed safely back in the living room.

The little boat sailed across the lake. The wind filled its white sail. A family of ducks swam behind it. On the shore, an old man sat with his fishing rod and waved. The boat went around the little island with the tall pine trees and came back to the dock just as the sun went down. The water turned gold and pink, and the first star came out.

Grandpa told the best stories. Every night, before bed, he sat in his big chair and the children sat on the rug. He told them about dragons and knights, about pirates and hidden gold, about a girl who could talk to the wind. Sometimes the stories were funny and sometimes they were a little scary. But they always ended the same way: "And they all went home, and they were safe and warm, just like you."
`;

const DIALOGUES = `
User: Hello! Can you help me with something?
Assistant: Of course. What do you need help with today?
User: I want to write a short poem about the sea.
Assistant: Here is a short poem. The sea is wide, the sea is deep, it sings the sailors off to sleep. The waves come in, the waves go out, and that is what the sea's about.
User: Thank you, that is lovely.
Assistant: You are welcome. Let me know if you would like another one.

User: What is the capital of France?
Assistant: The capital of France is Paris.
User: And what about Italy?
Assistant: The capital of Italy is Rome.
User: How many people live there?
Assistant: About three million people live in Rome, and more than four million live in the whole metropolitan area.

System: You are a helpful, honest and friendly assistant.
User: Can you explain what a computer does, in simple words?
Assistant: A computer follows instructions very quickly. It takes information in, changes it step by step, and gives information back. It can add numbers, store pictures, play music, and help people talk to each other.
User: How does it remember things?
Assistant: It keeps information in memory. Some memory is fast but forgets everything when the power is off, and some memory is slower but keeps the information for a long time, like a hard disk.

User: Please give me three tips for sleeping better.
Assistant: Sure. First, go to bed at the same time every night. Second, keep your room dark, quiet and cool. Third, avoid screens for an hour before sleep.

system
You are a helpful assistant.
user
Tell me a story about a cat.
assistant
Once upon a time, there was a cat named Tom. He liked to sleep in the sun. One day he chased a butterfly all the way to the river, and then he walked home for dinner.
user
Write a list of three colors.
assistant
Red, green, and blue.

User: What's 12 times 12?
Assistant: 12 times 12 is 144.
User: And 25 plus 17?
Assistant: 25 plus 17 is 42.
User: What is 1000 divided by 8?
Assistant: 1000 divided by 8 is 125.
`;

const FACTS = `
The Earth goes around the Sun once every year, which is about 365 days. The Moon goes around the Earth about once every 27 days. Water boils at 100 degrees Celsius and freezes at 0 degrees Celsius at sea level. A day has 24 hours, an hour has 60 minutes, and a minute has 60 seconds.

Plants make their own food from sunlight, water, and air. This is called photosynthesis. Animals cannot make their own food, so they eat plants or other animals. Many birds fly south in the winter, where it is warmer, and come back north in the spring.

The heart is a muscle that pumps blood around the body. The lungs take in air and give oxygen to the blood. The brain sends messages along the nerves to every part of the body. People need food, water, sleep, and exercise to stay healthy.

There are seven continents: Africa, Antarctica, Asia, Australia, Europe, North America, and South America. The largest ocean is the Pacific Ocean. The longest rivers in the world include the Nile, the Amazon, and the Yangtze. Mount Everest is the highest mountain above sea level, at about 8,849 meters.

Numbers can be written in many ways: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10. Ten, twenty, thirty, forty, fifty, sixty, seventy, eighty, ninety, one hundred. The year 2024 had 366 days because it was a leap year. Pi is about 3.14159, and the square root of 2 is about 1.41421.

A recipe for simple pancakes: mix 1 cup of flour, 1 egg, 1 cup of milk, 2 spoons of sugar, and a pinch of salt. Heat a pan with a little butter. Pour in a small amount of batter and cook until bubbles appear, then flip it and cook the other side. Serve with fruit, honey, or maple syrup.

To plant a seed, fill a small pot with soil, make a hole with your finger, drop the seed in, and cover it gently. Water it a little every day and keep it in a sunny place. After a week or two, a small green shoot will appear. Soon it will grow leaves, and maybe one day it will have flowers or fruit.
`;

/** Public-domain passages (Aesop, the King James Bible, Lincoln, Austen, Carroll, Dickens, Melville, Grimm, Potter). */
const PUBLIC_DOMAIN = `
In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness. And God called the light Day, and the darkness he called Night. And the evening and the morning were the first day.

The Lord is my shepherd; I shall not want. He maketh me to lie down in green pastures: he leadeth me beside the still waters. He restoreth my soul: he leadeth me in the paths of righteousness for his name's sake. Yea, though I walk through the valley of the shadow of death, I will fear no evil: for thou art with me; thy rod and thy staff they comfort me.

To every thing there is a season, and a time to every purpose under the heaven: a time to be born, and a time to die; a time to plant, and a time to pluck up that which is planted; a time to weep, and a time to laugh; a time to mourn, and a time to dance.

Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, and dedicated to the proposition that all men are created equal. Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a portion of that field, as a final resting place for those who here gave their lives that that nation might live. It is altogether fitting and proper that we should do this.

We hold these truths to be self-evident, that all men are created equal, that they are endowed by their Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness.

It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered the rightful property of some one or other of their daughters.

Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations in it, "and what is the use of a book," thought Alice, "without pictures or conversations?" So she was considering in her own mind (as well as she could, for the hot day made her feel very sleepy and stupid), whether the pleasure of making a daisy-chain would be worth the trouble of getting up and picking the daisies, when suddenly a White Rabbit with pink eyes ran close by her.

It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us.

Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. It is a way I have of driving off the spleen and regulating the circulation.

Once upon a time there were four little Rabbits, and their names were Flopsy, Mopsy, Cotton-tail, and Peter. They lived with their Mother in a sand-bank, underneath the root of a very big fir-tree. "Now, my dears," said old Mrs. Rabbit one morning, "you may go into the fields or down the lane, but don't go into Mr. McGregor's garden." Flopsy, Mopsy, and Cotton-tail, who were good little bunnies, went down the lane to gather blackberries; but Peter, who was very naughty, ran straight away to Mr. McGregor's garden, and squeezed under the gate!

A Fox one day spied a beautiful bunch of ripe grapes hanging from a vine trained along the branches of a tree. The grapes seemed ready to burst with juice, and the Fox's mouth watered as he gazed longingly at them. The bunch hung from a high branch, and the Fox had to jump for it. The first time he jumped he missed it by a long way. So he walked off a short distance and took a running leap at it, only to fall short once more. Again and again he tried, but in vain. Now he sat down and looked at the grapes in disgust. "What a fool I am," he said. "Here I am wearing myself out to get a bunch of sour grapes that are not worth gaping for." And off he walked very, very scornfully.

A Lion lay asleep in the forest, his great head resting on his paws. A timid little Mouse came upon him unexpectedly, and in her fright and haste to get away, ran across the Lion's nose. Roused from his nap, the Lion laid his huge paw angrily on the tiny creature to kill her. "Spare me!" begged the poor Mouse. "Please let me go and some day I will surely repay you." The Lion was much amused to think that a Mouse could ever help him. But he was generous and finally let the Mouse go. Some days later, while stalking his prey in the forest, the Lion was caught in the toils of a hunter's net. Unable to free himself, he filled the forest with his angry roaring. The Mouse knew the voice and quickly found the Lion struggling in the net. Running to one of the great ropes that bound him, she gnawed it until it parted, and soon the Lion was free.

A Crow, half-dead with thirst, came upon a Pitcher which had once been full of water; but when the Crow put its beak into the mouth of the Pitcher he found that only very little water was left in it, and that he could not reach far enough down to get at it. He tried, and he tried, but at last had to give up in despair. Then a thought came to him, and he took a pebble and dropped it into the Pitcher. Then he took another pebble and dropped it into the Pitcher. At last, at last, he saw the water mount up near him, and after casting in a few more pebbles he was able to quench his thirst and save his life. Little by little does the trick.

A shepherd boy, who watched a flock of sheep near a village, brought out the villagers three or four times by crying out, "Wolf! Wolf!" and when his neighbors came to help him, laughed at them for their pains. The Wolf, however, did truly come at last. The shepherd boy, now really alarmed, shouted in an agony of terror: "Pray, do come and help me; the Wolf is killing the sheep." But no one paid any heed to his cries, nor rendered any assistance. Nobody believes a liar, even when he speaks the truth.

In olden times when wishing still helped one, there lived a king whose daughters were all beautiful, but the youngest was so beautiful that the sun itself, which has seen so much, was astonished whenever it shone in her face. Close by the king's castle lay a great dark forest, and under an old lime-tree in the forest was a well, and when the day was very warm, the king's child went out into the forest and sat down by the side of the cool fountain, and when she was bored she took a golden ball, and threw it up on high and caught it, and this ball was her favorite plaything.

Hard by a great forest dwelt a poor wood-cutter with his wife and his two children. The boy was called Hansel and the girl Gretel. He had little to bite and to break, and once when great dearth fell on the land, he could no longer procure even daily bread. Now when he thought over this by night in his bed, and tossed about in his anxiety, he groaned and said to his wife, "What is to become of us? How are we to feed our poor children, when we no longer have anything even for ourselves?"

Twinkle, twinkle, little star, how I wonder what you are! Up above the world so high, like a diamond in the sky. Mary had a little lamb, its fleece was white as snow; and everywhere that Mary went, the lamb was sure to go. Humpty Dumpty sat on a wall, Humpty Dumpty had a great fall. All the king's horses and all the king's men couldn't put Humpty together again. Hey diddle diddle, the cat and the fiddle, the cow jumped over the moon; the little dog laughed to see such sport, and the dish ran away with the spoon.

Tyger Tyger, burning bright, in the forests of the night; what immortal hand or eye, could frame thy fearful symmetry? I wandered lonely as a cloud that floats on high o'er vales and hills, when all at once I saw a crowd, a host, of golden daffodils; beside the lake, beneath the trees, fluttering and dancing in the breeze.

Whose woods these are I think I know. His house is in the village though; he will not see me stopping here to watch his woods fill up with snow. Because I could not stop for Death, he kindly stopped for me; the carriage held but just ourselves and Immortality.
`;

/** A little code and markup, so common symbols and indentation get merges too. */
const CODE = `
function add(a, b) {
  return a + b;
}

const total = [1, 2, 3, 4].reduce((sum, value) => sum + value, 0);
console.log("total:", total);

def greet(name):
    print(f"Hello, {name}!")

for i in range(10):
    if i % 2 == 0:
        print(i)

# Shopping list
- eggs
- milk (2 liters)
- bread
- apples, bananas, oranges

{"name": "Lily", "age": 7, "likes": ["birds", "songs", "the sky"]}
SELECT name, age FROM friends WHERE age > 6 ORDER BY name;
https://example.com/stories/index.html
`;

/** The whole training corpus (about 30 KB). */
export const TRAINING_CORPUS: string = [STORIES, DIALOGUES, FACTS, PUBLIC_DOMAIN, CODE].join('\n');

// Writes a deterministic English-like corpus (Zipf-distributed words, lines of 6-16 words).
// Used for the shipped example corpus and, with a larger size, by the benchmarks.
// Usage: node make-corpus.mjs OUT_FILE SIZE_BYTES [SEED]
import { createWriteStream } from 'node:fs';

const common = `the of and to a in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two has look
more day could go come did number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end put home read hand
port large spell add even land here must big high such follow act why ask men change went light kind off need
house picture try us again animal point mother world near build self earth father head stand own page should
country found answer school grow study still learn plant cover food sun four between state keep eye never last
let thought city tree cross farm hard start might story saw far sea draw left late run while press close night
real life few north open seem together next white children begin got walk example ease paper group always music
those both mark often letter until mile river car feet care second book carry took science eat room friend began
idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young
ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door product
black short numeral class wind question happen complete ship area half rock order fire south problem piece told
knew pass since top whole king space heard best hour better true during hundred five remember step early hold
west ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward
war lay against pattern slow center love person money serve appear road map rain rule govern pull cold notice
voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest
correct able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm
free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay wheel
full force blue object decide surface deep moon island foot system busy test record boat common gold possible
plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring yes
distant fill east paint language among ray array stray tray ray-tracing gray spray x-ray rays raymond stream
streaming mobius flink task worker operator barrier checkpoint key group channel frame batch source sink`.split(/\s+/).filter(Boolean);

const out = process.argv[2];
const size = Number(process.argv[3] ?? 2_000_000);
let seed = Number(process.argv[4] ?? 42) >>> 0;
const random = () => {
  // xorshift32: the same corpus on every machine
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
};
// Zipf weights over the vocabulary, plus made-up rare words so the key space is wide.
const weights = common.map((_, i) => 1 / (i + 1));
const total = weights.reduce((a, b) => a + b, 0);
const cumulative = [];
let acc = 0;
for (const w of weights) cumulative.push((acc += w / total));
function word() {
  if (random() < 0.08) {
    const syllables = ['ka', 'lo', 'mi', 'ren', 'tas', 'vor', 'qui', 'del', 'sun', 'bar', 'nex', 'ul'];
    let w = '';
    const n = 2 + Math.floor(random() * 3);
    for (let i = 0; i < n; i++) w += syllables[Math.floor(random() * syllables.length)];
    return w;
  }
  const r = random();
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return common[lo];
}

const stream = createWriteStream(out);
let written = 0;
let chunk = '';
while (written < size) {
  const n = 6 + Math.floor(random() * 11);
  const words = [];
  for (let i = 0; i < n; i++) words.push(word());
  let line = words.join(' ');
  if (random() < 0.3) line = line[0].toUpperCase() + line.slice(1) + '.';
  if (random() < 0.02) line = '';
  chunk += line + '\n';
  written += line.length + 1;
  if (chunk.length > 1 << 16) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
    chunk = '';
  }
}
stream.end(chunk);
await new Promise((r) => stream.on('finish', r));

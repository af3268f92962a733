// A job that fills the V8 heap while it is imported (hundreds of MB of live objects).
const keep: number[][] = [];
for (let i = 0; i < 1_000_000; i++) keep.push(new Array<number>(1000).fill(i));
console.log(keep.length);

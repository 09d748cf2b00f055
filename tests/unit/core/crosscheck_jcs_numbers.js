// Cross-checks vt_json_number against ECMAScript itself.
//
// Reads lines "<16 hex digits of the IEEE-754 bits> <our string>" on stdin, ending with
// "end <count>", and compares each with JSON.stringify of the same double. Prints the first
// 10 mismatches and "crosscheck: N numbers, M mismatches"; exits 1 on any mismatch, on a
// malformed line, or if the count does not match the number of lines received.
'use strict';

const bits = Buffer.alloc(8);
let numbers = 0;
let mismatches = 0;
let malformed = 0;
let announced = -1;
let rest = '';

function report(what) {
  if (mismatches + malformed <= 10) {
    console.log(what);
  }
}

function check(line) {
  if (line.startsWith('end ')) {
    announced = Number(line.slice(4));
    return;
  }
  // Number() rejects anything but hex digits after the 0x prefix, unlike parseInt.
  const hi = Number('0x' + line.slice(0, 8));
  const lo = Number('0x' + line.slice(8, 16));
  if (line.length < 18 || line[16] !== ' ' || Number.isNaN(hi) || Number.isNaN(lo)) {
    malformed++;
    report(`malformed line: '${line}'`);
    return;
  }
  numbers++;
  bits.writeUInt32BE(hi, 0);
  bits.writeUInt32BE(lo, 4);
  const want = JSON.stringify(bits.readDoubleBE(0));
  const ours = line.slice(17);
  if (ours !== want) {
    mismatches++;
    report(`mismatch: ${line.slice(0, 16)} ours '${ours}' JSON.stringify '${want}'`);
  }
}

process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    check(line);
  }
});
process.stdin.on('end', () => {
  if (rest.length > 0) {
    check(rest);
  }
  console.log(`crosscheck: ${numbers} numbers, ${mismatches} mismatches`);
  if (announced !== numbers) {
    console.log(`crosscheck: expected ${announced} numbers, received ${numbers}`);
  }
  const ok = mismatches === 0 && malformed === 0 && numbers > 0 && announced === numbers;
  process.exit(ok ? 0 : 1);
});

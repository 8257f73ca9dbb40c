#!/usr/bin/env node
// The Solidity compiler forge runs: solc-js (the `solc` npm package, pinned in
// package-lock.json) behind the two command-line forms forge uses, because
// forge cannot download a native solc on machines without access to the
// compiler's release host (docs/operations.md, "Contracts").
//
//   solc.cjs --version          prints the version the way native solc does
//   solc.cjs --standard-json    compiles the Standard JSON on stdin
//
// forge passes most sources inside the JSON; the rest (imports it resolved
// to other spellings of a path) are read through the import callback, from
// --base-path and each --include-path, as native solc would.
'use strict';
const fs = require('fs');
const solc = require('solc');

const path = require('path');

const args = process.argv.slice(2);

function optionValues(name) {
    const values = [];
    for (let i = 0; i < args.length; ++i) {
        if (args[i] === name && i + 1 < args.length) {
            values.push(args[i + 1]);
        } else if (args[i].startsWith(name + '=')) {
            values.push(args[i].slice(name.length + 1));
        }
    }
    return values;
}

const searchRoots = [...optionValues('--base-path'), ...optionValues('--include-path'), '.'];

function findImport(importPath) {
    for (const root of searchRoots) {
        const candidate = path.resolve(root, importPath);
        if (fs.existsSync(candidate)) {
            return { contents: fs.readFileSync(candidate, 'utf8') };
        }
    }
    return { error: `not found under ${searchRoots.join(', ')}` };
}
if (args.includes('--version')) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (args.includes('--standard-json')) {
    const input = fs.readFileSync(0, 'utf8');
    process.stdout.write(solc.compile(input, { import: findImport }));
} else {
    process.stderr.write('solc.cjs: only --version and --standard-json are supported\n');
    process.exit(2);
}

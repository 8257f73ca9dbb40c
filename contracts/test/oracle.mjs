// circomlibjs as the oracle of the forge tests, called through vm.ffi (one
// call per test: starting node and building Poseidon takes about a second).
// Prints an ABI-encoded answer as 0x-prefixed hex, which forge decodes.
//
//   node test/oracle.mjs hashes <arity> <x...>
//       abi.encode(uint256[]): H of each consecutive group of <arity> inputs
//   node test/oracle.mjs tree <step...>
//       steps "a<leaf>" (append the leaf) and "z<index>" (set leaf <index> to 0);
//       abi.encode(uint256[] roots, uint256[] paths): the root after each
//       step, and for each "z" step the 20 siblings of its leaf just before it
//
// Numbers are decimal or 0x-hex. The tree is tests/reference/protocol.mjs's
// (depth 20, empty leaf 0, inner node H(left, right)).
import { buildPoseidon } from "circomlibjs";
import { Protocol, Tree } from "../../tests/reference/protocol.mjs";

const word = (v) => BigInt(v).toString(16).padStart(64, "0");
const encodeArray = (values) => word(values.length) + values.map(word).join("");

const [command, ...args] = process.argv.slice(2);
const protocol = new Protocol(await buildPoseidon(), null, null);
if (command === "hashes") {
    const arity = Number(args[0]);
    const inputs = args.slice(1).map(BigInt);
    const outputs = [];
    for (let i = 0; i + arity <= inputs.length; i += arity) {
        outputs.push(protocol.H(...inputs.slice(i, i + arity)));
    }
    process.stdout.write("0x" + word(32) + encodeArray(outputs));
} else if (command === "tree") {
    const tree = new Tree(protocol, 20);
    const roots = [];
    const paths = [];
    for (const step of args) {
        if (step[0] === "a") {
            tree.append(BigInt(step.slice(1)));
        } else if (step[0] === "z") {
            const index = Number(step.slice(1));
            paths.push(...tree.path(index).elements);
            tree.leaves[index] = 0n;
        } else {
            throw new Error(`oracle.mjs: unknown step ${step}`);
        }
        roots.push(tree.root());
    }
    const rootsWords = encodeArray(roots);
    process.stdout.write("0x" + word(64) + word(64 + rootsWords.length / 2) + rootsWords + encodeArray(paths));
} else {
    process.stderr.write(`oracle.mjs: unknown command ${command}\n`);
    process.exit(2);
}

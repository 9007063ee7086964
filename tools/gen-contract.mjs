#!/usr/bin/env node
// Writes src/native/contract.generated.ts, the one description of what BPF and
// TypeScript share, from what clang and bpftool say rather than from C text:
//
// - bpf/leakhound.h: every struct and enum it declares, and every object-like
//   LH_* macro, are compiled by clang -target bpf into a small probe object;
//   bpftool -j reads the layout and the values back from that object's BTF.
// - each .output/X.bpf.o: map names (the .maps section) and .rodata knobs with
//   their sizes from its BTF; program names from its skeleton header, the very
//   struct the addon compiles against.
//
// Usage: node tools/gen-contract.mjs --out FILE [--include DIR]... OBJECT.bpf.o...
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const HEADER = 'bpf/leakhound.h';

function parseArgs(argv) {
  const args = { out: null, includes: [], objects: [], arch: 'x86' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') args.out = argv[++i];
    else if (arg === '--include') args.includes.push(argv[++i]);
    else if (arg === '--arch') args.arch = argv[++i];
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else args.objects.push(arg);
  }
  if (!args.out) throw new Error('give --out FILE');
  if (args.includes.length === 0) args.includes.push('.output');
  return args;
}

function btf(object) {
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const types = JSON.parse(json).types;
  return { types, byId: new Map(types.map((t) => [t.id, t])) };
}

/** The type behind typedefs and qualifiers. */
function resolveType({ byId }, id) {
  let type = byId.get(id);
  while (type && ['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(type.kind)) type = byId.get(type.type_id);
  return type;
}

function sizeOf(info, id) {
  const type = resolveType(info, id);
  if (!type) throw new Error(`BTF type ${id} not found`);
  if (type.kind === 'ARRAY') return type.nr_elems * sizeOf(info, type.type_id);
  if (type.kind === 'PTR') return 8;
  return type.size;
}

// ---- leakhound.h ------------------------------------------------------------

/** Names of what the header declares; the values come from clang. */
function headerDeclarations(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const structs = [...code.matchAll(/\bstruct\s+(\w+)\s*\{/g)].map((m) => m[1]);
  const enums = [...code.matchAll(/\benum\s+(\w+)\s*\{/g)].map((m) => m[1]);
  // Object-like macros only (no parenthesis right after the name).
  const defines = [...code.matchAll(/^\s*#\s*define\s+(LH_\w+)(?!\()[ \t]+\S/gm)].map((m) => m[1]);
  return { structs, enums, defines };
}

/** A probe object whose BTF holds every declaration of the header. Each macro
 * becomes three enumerators of 24, 24 and 16 bits, so that a 53-bit mask
 * survives clang 14's 32-bit BTF enums. */
function headerBtf(decls, args, dir) {
  const lines = ['#include "vmlinux.h"', `#include "${resolve(HEADER)}"`];
  decls.structs.forEach((name) => lines.push(`struct ${name} lh_contract_struct_${name};`));
  decls.enums.forEach((name) => lines.push(`enum ${name} lh_contract_enum_${name};`));
  if (decls.defines.length > 0) {
    lines.push('enum lh_contract_defines {');
    for (const name of decls.defines) {
      const value = `((unsigned long long)(${name}))`;
      lines.push(`\tLH_CONTRACT_LO_${name} = (int)(${value} & 0xffffff),`);
      lines.push(`\tLH_CONTRACT_MID_${name} = (int)((${value} >> 24) & 0xffffff),`);
      lines.push(`\tLH_CONTRACT_HI_${name} = (int)((${value} >> 48) & 0xffff),`);
    }
    lines.push('};', 'enum lh_contract_defines lh_contract_defines;');
  }
  const source = join(dir, 'contract.bpf.c');
  const object = join(dir, 'contract.bpf.o');
  writeFileSync(source, lines.join('\n') + '\n');
  execFileSync('clang', ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${args.arch}`, ...args.includes.map((d) => `-I${d}`), '-Ibpf', '-c', source, '-o', object], { stdio: ['ignore', 'inherit', 'inherit'] });
  return btf(object);
}

function findNamed(info, kind, name) {
  const found = info.types.find((t) => t.kind === kind && t.name === name);
  if (!found) throw new Error(`${kind} ${name} missing from the probe object's BTF`);
  return found;
}

function describeStruct(info, name) {
  const type = findNamed(info, 'STRUCT', name);
  const fields = {};
  for (const member of type.members) {
    if (member.bits_offset % 8 !== 0 || member.bitfield_size) throw new Error(`struct ${name}: bit field ${member.name} is not supported`);
    const field = { offset: member.bits_offset / 8, size: sizeOf(info, member.type_id) };
    const memberType = resolveType(info, member.type_id);
    if (memberType.kind === 'ARRAY') field.count = memberType.nr_elems;
    fields[member.name] = field;
  }
  return { size: type.size, fields };
}

function describeEnum(info, name) {
  const type = info.types.find((t) => (t.kind === 'ENUM' || t.kind === 'ENUM64') && t.name === name);
  if (!type) throw new Error(`enum ${name} missing from the probe object's BTF`);
  return Object.fromEntries(type.values.map((v) => [v.name, Number(v.val)]));
}

function describeDefines(info, names) {
  if (names.length === 0) return {};
  const values = describeEnum(info, 'lh_contract_defines');
  const defines = {};
  for (const name of names) {
    const value = (BigInt(values[`LH_CONTRACT_HI_${name}`]) << 48n) | (BigInt(values[`LH_CONTRACT_MID_${name}`]) << 24n) | BigInt(values[`LH_CONTRACT_LO_${name}`]);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) defines[name] = Number(value);
  }
  return defines;
}

/** LH_FN_POSIX_MEMALIGN in enum lh_alloc_fn -> posixMemalign: the names
 * without their common prefix, camelCased; sentinels (LH_CNT__MAX) left out. */
function tsNames(values) {
  const names = Object.keys(values).filter((name) => !name.includes('__'));
  let prefix = names[0] ?? '';
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.slice(0, prefix.lastIndexOf('_') + 1);
  const camel = (s) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
  return Object.fromEntries(names.map((name) => [camel(name.slice(prefix.length)), values[name]]));
}

// ---- BPF objects ------------------------------------------------------------

function datasecVars(info, section) {
  const sec = info.types.find((t) => t.kind === 'DATASEC' && t.name === section);
  if (!sec) return [];
  // Static variables (a function's static const table) are not the object's
  // to set from outside: the skeleton leaves them out too.
  return sec.vars
    .map((v) => info.byId.get(v.type_id))
    .filter((v) => v.linkage !== 'static')
    .map((v) => ({ name: v.name, type: v.type_id }));
}

/** The names in one `struct { struct bpf_program *a; ... } progs;` block. */
function skeletonMembers(skeleton, block, type) {
  const match = skeleton.match(new RegExp(`struct\\s*\\{([^{}]*)\\}\\s*${block}\\s*;`));
  if (!match) return [];
  return [...match[1].matchAll(new RegExp(`struct\\s+${type}\\s*\\*\\s*(\\w+)\\s*;`, 'g'))].map((m) => m[1]);
}

function describeObject(path) {
  const info = btf(path);
  const skeletonPath = path.replace(/\.bpf\.o$/, '.skel.h');
  const skeleton = readFileSync(skeletonPath, 'utf8');
  const programs = skeletonMembers(skeleton, 'progs', 'bpf_program');
  if (programs.length === 0) throw new Error(`${skeletonPath}: no programs found`);
  const maps = datasecVars(info, '.maps').map((v) => v.name);
  const knobs = Object.fromEntries(datasecVars(info, '.rodata').map((v) => [v.name, sizeOf(info, v.type)]));
  return { programs, maps, knobs };
}

// ---- output -----------------------------------------------------------------

function literal(value, indent = '') {
  const inner = `${indent}  `;
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map((v) => literal(v, inner)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
    const flat = entries.every(([, v]) => typeof v !== 'object' || v === null);
    if (flat) return `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v)}`).join(', ')} }`;
    return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${literal(v, inner)},`).join('\n')}\n${indent}}`;
  }
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'lh-contract-'));
  try {
    const decls = headerDeclarations(readFileSync(HEADER, 'utf8'));
    const info = headerBtf(decls, args, dir);
    const structs = Object.fromEntries(decls.structs.map((name) => [name, describeStruct(info, name)]));
    const enums = Object.fromEntries(decls.enums.map((name) => [name, describeEnum(info, name)]));
    const enumNames = Object.fromEntries(decls.enums.map((name) => [name, tsNames(enums[name])]));
    const defines = describeDefines(info, decls.defines);
    const objects = Object.fromEntries(
      [...args.objects].sort().map((path) => [basename(path).replace(/\.bpf\.o$/, ''), describeObject(path)]),
    );
    const out = [
      '// GENERATED by tools/gen-contract.mjs (`make contract`) from bpf/leakhound.h and',
      '// the BPF objects\' BTF and skeletons: do not edit, and do not commit.',
      '',
      '/** Every struct of leakhound.h: size and field offsets in bytes, as clang lays them out for BPF. */',
      `export const structs = ${literal(structs)} as const;`,
      '',
      '/** Every enum of leakhound.h, by its C names. */',
      `export const enums = ${literal(enums)} as const;`,
      '',
      '/** The same enums with the common prefix dropped and camelCased (LH_FN_POSIX_MEMALIGN: posixMemalign); sentinels such as LH_CNT__MAX left out. */',
      `export const enumNames = ${literal(enumNames)} as const;`,
      '',
      '/** The object-like LH_* macros of leakhound.h that fit a JavaScript number exactly. */',
      `export const defines = ${literal(defines)} as const;`,
      '',
      '/** Per BPF object (bpf/X.bpf.c): its programs, its maps, its .rodata knobs with their sizes in bytes. */',
      `export const objects = ${literal(objects)} as const;`,
      '',
      'export type ObjectName = keyof typeof objects;',
      '',
    ].join('\n');
    writeFileSync(args.out, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`gen-contract: ${error.message}\n`);
  process.exit(1);
}

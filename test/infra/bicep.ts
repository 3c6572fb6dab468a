import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A small reader for the Bicep source under infra/, built on tree-sitter-bicep, for checks about the
 * source itself (how a value is written and where it comes from); what the templates mean is checked
 * with the real compiler (compiler.ts). It turns each file into declarations whose bodies are plain JS
 * values where the source is a literal; anything else (a reference, a call, an interpolated string) is
 * kept as an `Expr` holding its source text, so tests can compare it exactly.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const INFRA_DIR = path.join(REPO_ROOT, 'infra');

/** Source text of an expression this reader does not evaluate. */
export class Expr {
  constructor(
    readonly text: string,
    readonly nodeType: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

export type Value = string | number | boolean | null | Expr | Value[] | { [key: string]: Value };
export type ObjectValue = { [key: string]: Value };

export interface Decorator {
  name: string;
  args: Value[];
}

export interface Param {
  name: string;
  type: string;
  /** Absent when the parameter has no default (the caller must pass it). */
  default?: Value;
  decorators: Decorator[];
  secure: boolean;
  line: number;
}

export interface Variable {
  name: string;
  value: Value;
  line: number;
}

export interface Resource {
  file: string;
  symbol: string;
  /** Full type, e.g. Microsoft.Web/sites/config, also for resources nested in a parent's body. */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** Source of the `if (...)` condition, without the parentheses. */
  condition?: string;
  /** Symbol of the parent resource: the enclosing declaration, or the one `parent:` names. */
  parentSymbol?: string;
  body: ObjectValue;
  line: number;
}

export interface ModuleDecl {
  file: string;
  symbol: string;
  /** The path as written, e.g. './app/api.bicep' or 'br/public:...'. */
  source: string;
  condition?: string;
  body: ObjectValue;
  line: number;
}

export interface Output {
  name: string;
  type: string;
  value: Value;
  decorators: Decorator[];
  secure: boolean;
  line: number;
}

export interface SyntaxProblem {
  kind: 'ERROR' | 'MISSING';
  line: number;
  column: number;
  text: string;
}

export interface BicepFile {
  /** Repository-relative, forward slashes, e.g. infra/app/api.bicep. */
  path: string;
  source: string;
  targetScope?: string;
  params: Map<string, Param>;
  variables: Map<string, Variable>;
  resources: Resource[];
  modules: ModuleDecl[];
  outputs: Map<string, Output>;
  /** Every ERROR and MISSING node tree-sitter produced, with 1-based positions. */
  problems: SyntaxProblem[];
  /** The syntax tree, for checks the declarations above do not cover. */
  root: SyntaxNode;
}

/** A node of the syntax tree, copied out of tree-sitter (see `parseTrees`). */
export interface SyntaxNode {
  id: number;
  type: string;
  text: string;
  isNamed: boolean;
  isMissing: boolean;
  startPosition: { row: number; column: number };
  children: SyntaxNode[];
  namedChildren: SyntaxNode[];
  parent: SyntaxNode | null;
  /** True when this node or any descendant is an ERROR or MISSING node. */
  hasError: boolean;
}

// tree-sitter's native binding breaks when jest loads it a second time in the same worker (each test
// file gets a fresh module registry, the addon keeps its first instance), so the parse runs in a child
// process that prints the trees as JSON.
const PARSE_SCRIPT = `
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');
const parser = new Parser();
parser.setLanguage(Bicep);
const copy = (n) => ({ t: n.type, n: n.isNamed, m: n.isMissing, r: n.startPosition.row, c: n.startPosition.column, x: n.text, k: n.children.map(copy) });
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const trees = JSON.parse(input).map((source) => copy(parser.parse(source, null, { bufferSize: source.length * 4 + 1024 }).rootNode));
  process.stdout.write(JSON.stringify(trees));
});
`;

interface CopiedNode {
  t: string;
  n: boolean;
  m: boolean;
  r: number;
  c: number;
  x: string;
  k: CopiedNode[];
}

let nextId = 1;

function revive(copied: CopiedNode, parent: SyntaxNode | null): SyntaxNode {
  const node: SyntaxNode = {
    id: nextId++,
    type: copied.t,
    text: copied.x,
    isNamed: copied.n,
    isMissing: copied.m,
    startPosition: { row: copied.r, column: copied.c },
    children: [],
    namedChildren: [],
    parent,
    hasError: false,
  };
  node.children = copied.k.map((child) => revive(child, node));
  node.namedChildren = node.children.filter((child) => child.isNamed);
  node.hasError = node.type === 'ERROR' || node.isMissing || node.children.some((child) => child.hasError);
  return node;
}

/** Parses Bicep sources with tree-sitter-bicep, all in one child process. */
export function parseTrees(sources: string[]): SyntaxNode[] {
  const result = spawnSync(process.execPath, ['-e', PARSE_SCRIPT], {
    cwd: REPO_ROOT,
    input: JSON.stringify(sources),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`tree-sitter-bicep failed: ${result.stderr || result.error}`);
  return (JSON.parse(result.stdout) as CopiedNode[]).map((tree) => revive(tree, null));
}

/** Every descendant of `node` (not `node` itself) whose type is one of `types`, in source order. */
export function descendantsOfType(node: SyntaxNode, types: string[]): SyntaxNode[] {
  return node.children.flatMap((child) => [
    ...(types.includes(child.type) ? [child] : []),
    ...descendantsOfType(child, types),
  ]);
}

const named = (node: SyntaxNode): SyntaxNode[] =>
  node.namedChildren.filter((child) => child.type !== 'comment');

const lineOf = (node: SyntaxNode): number => node.startPosition.row + 1;

function unescape(raw: string): string {
  return raw.replace(/\\(u\{[0-9a-fA-F]+\}|.)/g, (_, escaped: string) => {
    if (escaped.startsWith('u{')) return String.fromCodePoint(parseInt(escaped.slice(2, -1), 16));
    return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[escaped] ?? escaped;
  });
}

function stringValue(node: SyntaxNode): Value {
  if (node.text.startsWith("'''")) {
    // Multi-line strings are verbatim; a newline straight after the opening quotes is not content.
    return node.text.slice(3, -3).replace(/^\r?\n/, '');
  }
  if (node.namedChildren.some((child) => child.type === 'interpolation'))
    return new Expr(node.text, node.type);
  return unescape(node.text.slice(1, -1));
}

/** Converts an expression node to a JS value where it is a literal; otherwise keeps its source. */
export function toValue(node: SyntaxNode): Value {
  switch (node.type) {
    case 'string':
      return stringValue(node);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return named(node).map(toValue);
    case 'object':
      return objectValue(node).value;
    default:
      return new Expr(node.text, node.type);
  }
}

function propertyKey(node: SyntaxNode): string {
  return node.type === 'string' ? String(stringValue(node)) : node.text;
}

function objectValue(node: SyntaxNode): { value: ObjectValue; nested: SyntaxNode[] } {
  const value: ObjectValue = {};
  const nested: SyntaxNode[] = [];
  for (const property of named(node)) {
    if (property.type !== 'object_property') continue;
    const parts = named(property);
    if (parts.length === 1 && parts[0].type === 'resource_declaration') {
      nested.push(parts[0]);
      continue;
    }
    if (parts.length < 2) continue;
    value[propertyKey(parts[0])] = toValue(parts[parts.length - 1]);
  }
  return { value, nested };
}

function decoratorsOf(node: SyntaxNode | undefined): Decorator[] {
  if (!node || node.type !== 'decorators') return [];
  return named(node).map((decorator) => {
    const call = named(decorator)[0];
    if (call?.type !== 'call_expression') return { name: call?.text ?? decorator.text, args: [] };
    const [fn, args] = named(call);
    return { name: fn.text.replace(/^sys\./, ''), args: args ? named(args).map(toValue) : [] };
  });
}

interface DeclarationBody {
  body: ObjectValue;
  condition?: string;
  nested: SyntaxNode[];
}

function declarationBody(node: SyntaxNode): DeclarationBody {
  const last = named(node)[named(node).length - 1];
  if (last.type === 'object') {
    const { value, nested } = objectValue(last);
    return { body: value, nested };
  }
  if (last.type === 'if_statement') {
    const [condition, object] = named(last);
    const { value, nested } = objectValue(object);
    return { body: value, nested, condition: condition.text.replace(/^\(\s*/, '').replace(/\s*\)$/, '') };
  }
  // A loop: not evaluated; the whole body stays an expression under the `$loop` key.
  return { body: { $loop: new Expr(last.text, last.type) }, nested: [] };
}

function collectProblems(node: SyntaxNode, problems: SyntaxProblem[]): void {
  if (node.type === 'ERROR' || node.isMissing) {
    problems.push({
      kind: node.isMissing ? 'MISSING' : 'ERROR',
      line: node.startPosition.row + 1,
      column: node.startPosition.column + 1,
      text: node.isMissing ? node.type : node.text.slice(0, 80),
    });
  }
  for (const child of node.children) collectProblems(child, problems);
}

/** Parses one Bicep source. `filePath` is only used to label what the caller finds. */
export function parseBicep(source: string, filePath = '<inline>.bicep'): BicepFile {
  return readDeclarations(source, filePath, parseTrees([source])[0]);
}

function readDeclarations(source: string, filePath: string, root: SyntaxNode): BicepFile {
  const file: BicepFile = {
    path: filePath,
    source,
    params: new Map(),
    variables: new Map(),
    resources: [],
    modules: [],
    outputs: new Map(),
    problems: [],
    root,
  };
  collectProblems(root, file.problems);

  const addResource = (node: SyntaxNode, parent?: Resource) => {
    const [symbol, typeNode] = named(node);
    const declared = String(stringValue(typeNode));
    const [typePart, version] = declared.split('@');
    let type = typePart;
    let apiVersion = version ?? '';
    if (parent && !typePart.includes('/')) {
      type = `${parent.type}/${typePart}`;
      apiVersion = version ?? parent.apiVersion;
    }
    const { body, condition, nested } = declarationBody(node);
    const resource: Resource = {
      file: filePath,
      symbol: symbol.text,
      type,
      apiVersion,
      existing: node.children.some((child) => !child.isNamed && child.type === 'existing'),
      condition,
      parentSymbol: parent?.symbol ?? (body.parent instanceof Expr ? body.parent.text : undefined),
      body,
      line: lineOf(node),
    };
    file.resources.push(resource);
    for (const child of nested) addResource(child, resource);
  };

  let pending: SyntaxNode | undefined;
  for (const node of named(root)) {
    if (node.type === 'decorators') {
      pending = node;
      continue;
    }
    const decorators = decoratorsOf(pending);
    pending = undefined;
    const parts = named(node);
    switch (node.type) {
      case 'target_scope_assignment':
        file.targetScope = String(toValue(parts[0]));
        break;
      case 'parameter_declaration': {
        const [name, type, defaultNode] = parts;
        file.params.set(name.text, {
          name: name.text,
          type: type.text,
          ...(defaultNode ? { default: toValue(defaultNode) } : {}),
          decorators,
          secure: decorators.some((d) => d.name === 'secure'),
          line: lineOf(node),
        });
        break;
      }
      case 'variable_declaration':
        file.variables.set(parts[0].text, {
          name: parts[0].text,
          value: toValue(parts[parts.length - 1]),
          line: lineOf(node),
        });
        break;
      case 'resource_declaration':
        addResource(node);
        break;
      case 'module_declaration': {
        const { body, condition } = declarationBody(node);
        file.modules.push({
          file: filePath,
          symbol: parts[0].text,
          source: String(stringValue(parts[1])),
          condition,
          body,
          line: lineOf(node),
        });
        break;
      }
      case 'output_declaration': {
        const [name, type, value] = parts;
        file.outputs.set(name.text, {
          name: name.text,
          type: type.text,
          value: toValue(value),
          decorators,
          secure: decorators.some((d) => d.name === 'secure'),
          line: lineOf(node),
        });
        break;
      }
    }
  }
  return file;
}

function bicepFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return bicepFilesUnder(full);
    return entry.name.endsWith('.bicep') ? [full] : [];
  });
}

export const repoRelative = (absolute: string): string =>
  path.relative(REPO_ROOT, absolute).split(path.sep).join('/');

export interface Infra {
  files: Map<string, BicepFile>;
  file(relPath: string): BicepFile;
  /** Every resource of a type (case-insensitive), in every file. */
  resources(type: string): Resource[];
  /** The file a module declaration points at, or undefined when the path does not exist. */
  moduleTarget(module: ModuleDecl): BicepFile | undefined;
}

let cached: Infra | undefined;

/** Parses every .bicep file under infra/ once per test worker. */
export function loadInfra(): Infra {
  if (cached) return cached;
  const paths = bicepFilesUnder(INFRA_DIR).sort();
  const sources = paths.map((absolute) => readFileSync(absolute, 'utf8'));
  const trees = parseTrees(sources);
  const files = new Map<string, BicepFile>();
  paths.forEach((absolute, i) => {
    const rel = repoRelative(absolute);
    files.set(rel, readDeclarations(sources[i], rel, trees[i]));
  });
  cached = {
    files,
    file(rel) {
      const found = files.get(rel);
      if (!found) throw new Error(`${rel} does not exist (have: ${[...files.keys()].join(', ')})`);
      return found;
    },
    resources(type) {
      return [...files.values()].flatMap((f) =>
        f.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase()),
      );
    },
    moduleTarget(module) {
      return files.get(resolveModulePath(module));
    },
  };
  return cached;
}

/** Repository-relative path a local module declaration refers to. */
export function resolveModulePath(module: ModuleDecl): string {
  return repoRelative(path.resolve(REPO_ROOT, path.dirname(module.file), module.source));
}

/** Reads a dotted path (`properties.siteConfig.minTlsVersion`) out of a value; undefined if absent. */
export function get(value: Value | undefined, dotted: string): Value | undefined {
  let current: Value | undefined = value;
  for (const key of dotted.split('.')) {
    if (current === null || current === undefined || typeof current !== 'object' || current instanceof Expr) {
      return undefined;
    }
    current = Array.isArray(current) ? current[Number(key)] : current[key];
  }
  return current;
}

export const isExpr = (value: Value | undefined): value is Expr => value instanceof Expr;

export const exprText = (value: Value | undefined): string | undefined =>
  isExpr(value) ? value.text : undefined;

/** Every node of the given types in a file's syntax tree. */
export function nodesOfType(file: BicepFile, ...types: string[]): SyntaxNode[] {
  return descendantsOfType(file.root, types);
}

export interface ParamOrigin {
  file: string;
  param: string;
  default?: Value;
}

/**
 * Follows a value that is just a parameter name up through the module declarations that call its file,
 * to the parameters that finally supply it. Returns every origin: one per caller chain, with the
 * default that applies there (undefined: the deployment must pass a value).
 */
export function traceParam(infra: Infra, file: BicepFile, name: string): ParamOrigin[] {
  const param = file.params.get(name);
  if (!param) return [];
  const callers = [...infra.files.values()].flatMap((caller) =>
    caller.modules.filter((m) => resolveModulePath(m) === file.path).map((m) => ({ caller, module: m })),
  );
  const here: ParamOrigin = {
    file: file.path,
    param: name,
    ...('default' in param ? { default: param.default } : {}),
  };
  const passed = callers
    .map(({ caller, module }) => ({ caller, value: get(module.body, `params.${name}`) }))
    .filter((c) => c.value !== undefined);
  if (passed.length === 0) return [here];
  return passed.flatMap(({ caller, value }) => {
    // A parameter passed as is, or turned into an app setting's string with string().
    const text = exprText(value)?.replace(/^string\(\s*([A-Za-z_]\w*)\s*\)$/, '$1');
    if (text && /^[A-Za-z_]\w*$/.test(text) && caller.params.has(text))
      return traceParam(infra, caller, text);
    return [{ file: caller.path, param: name, default: value }];
  });
}

/**
 * Which AWS API actions a Lambda handler's code can call, read from the code itself: the AWS SDK
 * `…Command` objects constructed in the project files esbuild bundles for that handler, mapped to
 * IAM actions by COMMAND_ACTIONS below.
 *
 * Bundling alone over-approximates: the sync handler bundles the whole DynamoDB state store and
 * the SQS queue adapter although it only reads and writes entity state. So commands constructed
 * inside a class are counted per method, and a method counts only when the bundled code calls it
 * on a value typed as that class or as an interface it implements (the TypeScript checker decides,
 * e.g. `this.deps.store.get(…)` on a `StateStore` → `DynamoStateStore.get`), together with the
 * methods it calls on `this`. Commands constructed outside any class count whenever their file is
 * bundled (e.g. the SSM secrets reader). A call through a type that names neither the class nor
 * its interface is followed to where the member is declared, so a `Pick<StateStore, 'get'>` counts
 * as a call on `StateStore`.
 *
 * A new store method (a lease, an outbox) needs nothing here: once code calls it, its commands
 * count. A command of a kind not yet mapped fails the analysis until COMMAND_ACTIONS names it.
 */
import { relative, resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';

/**
 * IAM action per SDK command, by package. Batch and transaction commands are left out on purpose:
 * their permissions are per item (e.g. TransactWriteItems needs PutItem/UpdateItem/… of each
 * item), so whoever first uses one maps it knowingly.
 */
const COMMAND_ACTIONS: Record<string, Record<string, string>> = {
  '@aws-sdk/lib-dynamodb': {
    GetCommand: 'dynamodb:GetItem',
    PutCommand: 'dynamodb:PutItem',
    UpdateCommand: 'dynamodb:UpdateItem',
    DeleteCommand: 'dynamodb:DeleteItem',
    ScanCommand: 'dynamodb:Scan',
    // A Query on an index also needs the index's ARN (`<table>/index/*`) as a resource.
    QueryCommand: 'dynamodb:Query',
  },
  '@aws-sdk/client-dynamodb': {
    GetItemCommand: 'dynamodb:GetItem',
    PutItemCommand: 'dynamodb:PutItem',
    UpdateItemCommand: 'dynamodb:UpdateItem',
    DeleteItemCommand: 'dynamodb:DeleteItem',
    ScanCommand: 'dynamodb:Scan',
    QueryCommand: 'dynamodb:Query',
  },
  '@aws-sdk/client-sqs': {
    // SendMessageBatch is authorised as SendMessage, one check per entry.
    SendMessageBatchCommand: 'sqs:SendMessage',
    SendMessageCommand: 'sqs:SendMessage',
    ReceiveMessageCommand: 'sqs:ReceiveMessage',
    DeleteMessageCommand: 'sqs:DeleteMessage',
    DeleteMessageBatchCommand: 'sqs:DeleteMessage',
    ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
    GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
  },
  '@aws-sdk/client-ssm': {
    GetParametersByPathCommand: 'ssm:GetParametersByPath',
    GetParameterCommand: 'ssm:GetParameter',
    GetParametersCommand: 'ssm:GetParameters',
  },
};

/** A command found in the code: where it is constructed and the action it needs. */
interface CommandSite {
  file: string;
  /** `Class.method` when constructed in a class member, else undefined (counts with its file). */
  member?: string;
  command: string;
  action: string;
}

export interface HandlerCalls {
  /** Project files in the bundle (repository-relative). */
  files: string[];
  /** Every action of every command constructed in those files: what bundling alone would say. */
  bundled: Set<string>;
  /** The actions the handler's code can call, each with the sites that need it. */
  required: Map<string, string[]>;
  /** Class members whose commands were bundled but not counted: nothing in the bundle calls them. */
  uncalled: Set<string>;
}

const root = resolve(import.meta.dirname, '../..');

/** Project files (not node_modules) that contribute code to the bundle of `entry`. */
async function bundledFiles(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outdir: 'out',
    logLevel: 'silent',
  });
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output!.inputs)
    .filter(([file, input]) => !file.includes('node_modules') && input.bytesInOutput > 0)
    .map(([file]) => relative(root, resolve(root, file)));
}

/** The analysis of the given handlers, sharing one TypeScript program. */
export async function analyseHandlers(entries: readonly string[]): Promise<Map<string, HandlerCalls>> {
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(resolve(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
  const program = ts.createProgram(
    entries.map((e) => resolve(root, e)),
    config.options,
  );
  const checker = program.getTypeChecker();
  const out = new Map<string, HandlerCalls>();
  for (const entry of entries) {
    const files = await bundledFiles(entry);
    const sources = files.map((f) => program.getSourceFile(resolve(root, f)) ?? fail(`${f} is bundled but not in the TypeScript program`));
    const sites = sources.flatMap(commandSites);
    const classes = sources.flatMap(classesOf);
    const called = calledMembers(sources, classes, checker);
    const required = new Map<string, string[]>();
    const uncalled = new Set<string>();
    for (const site of sites) {
      if (site.member && !called.has(site.member)) {
        uncalled.add(site.member);
        continue;
      }
      const where = `${site.command} in ${site.member ?? site.file}`;
      required.set(site.action, [...(required.get(site.action) ?? []), where]);
    }
    out.set(entry, { files, bundled: new Set(sites.map((s) => s.action)), required, uncalled });
  }
  return out;
}

function fail(message: string): never {
  throw new Error(message);
}

/** The class member a node belongs to, as `Class.member`. */
function memberOf(node: ts.Node): string | undefined {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (ts.isClassElement(n) && n.name && ts.isClassLike(n.parent) && n.parent.name) return `${n.parent.name.text}.${n.name.getText()}`;
  }
  return undefined;
}

/** Every `new XCommand(…)` of an AWS SDK package in a file. */
function commandSites(source: ts.SourceFile): CommandSite[] {
  const imported = new Map<string, { pkg: string; name: string }>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const pkg = statement.moduleSpecifier.text;
    const named = statement.importClause?.namedBindings;
    if (!pkg.startsWith('@aws-sdk/') || !named || !ts.isNamedImports(named)) continue;
    for (const el of named.elements) imported.set(el.name.text, { pkg, name: (el.propertyName ?? el.name).text });
  }
  const file = relative(root, source.fileName);
  const sites: CommandSite[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && imported.has(node.expression.text)) {
      const { pkg, name } = imported.get(node.expression.text)!;
      if (name.endsWith('Command')) {
        const action = COMMAND_ACTIONS[pkg]?.[name] ?? fail(`${file}: ${pkg} ${name} has no IAM action in COMMAND_ACTIONS (test/deploy/sdk-calls.ts)`);
        sites.push({ file, member: memberOf(node), command: name, action });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

interface ClassInfo {
  name: string;
  /** The interfaces it implements, by name. */
  implements: string[];
  /** Per member, the members it calls on `this`. */
  calls: Map<string, Set<string>>;
}

function classesOf(source: ts.SourceFile): ClassInfo[] {
  const out: ClassInfo[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name) {
      const info: ClassInfo = {
        name: node.name.text,
        implements: (node.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText())),
        calls: new Map(),
      };
      const findThisCalls = (n: ts.Node): void => {
        if (ts.isPropertyAccessExpression(n) && n.expression.kind === ts.SyntaxKind.ThisKeyword) {
          const member = memberOf(n)?.split('.')[1] ?? 'constructor';
          info.calls.set(member, (info.calls.get(member) ?? new Set()).add(n.name.text));
        }
        ts.forEachChild(n, findThisCalls);
      };
      findThisCalls(node);
      out.push(info);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The classes and interfaces that declare a member (what a mapped type such as Pick copies keeps pointing at). */
function declaringTypes(member: ts.Symbol | undefined): string[] {
  return (member?.declarations ?? []).flatMap((d) => {
    const owner = d.parent;
    return (ts.isInterfaceDeclaration(owner) || ts.isClassDeclaration(owner)) && owner.name ? [owner.name.text] : [];
  });
}

/**
 * `Class.member` for every member of the bundled classes that the bundled code calls from outside
 * the class, through the class's type or an interface it implements, closed over `this.` calls.
 */
function calledMembers(sources: ts.SourceFile[], classes: ClassInfo[], checker: ts.TypeChecker): Set<string> {
  const called = new Set<string>();
  const add = (cls: ClassInfo, member: string): void => {
    const key = `${cls.name}.${member}`;
    if (called.has(key)) return;
    called.add(key);
    for (const next of cls.calls.get(member) ?? []) add(cls, next);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.expression.kind !== ts.SyntaxKind.ThisKeyword) {
      const receiver = checker.getNonNullableType(checker.getTypeAtLocation(node.expression.expression));
      // The receiver's type names the class or its interface, or — through a derived type such as
      // `Pick<StateStore, 'get'>` — the member itself still points at where it was declared.
      const names = new Set([receiver.getSymbol()?.getName(), ...declaringTypes(checker.getSymbolAtLocation(node.expression.name))]);
      for (const cls of classes) {
        if (names.has(cls.name) || cls.implements.some((i) => names.has(i))) add(cls, node.expression.name.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const source of sources) visit(source);
  return called;
}

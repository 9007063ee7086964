// A strict, small XML parser for tests: throws on anything that is not
// well-formed (unbalanced or crossed tags, a bare `&`, `<` in an attribute,
// duplicate attributes, characters XML forbids, a second root), so a test
// can check the flame graph without a browser and then inspect its tree.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ILLEGAL_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const NAME = /[A-Za-z_:][A-Za-z0-9_:.-]*/y;

function legalCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(`not well-formed XML at offset ${pos}: ${message} near ${JSON.stringify(source.slice(pos, pos + 40))}`);
  };
  const illegal = ILLEGAL_CHAR.exec(source);
  if (illegal) {
    pos = illegal.index;
    fail('character XML does not allow');
  }

  const skipSpace = (): boolean => {
    const start = pos;
    while (pos < source.length && ' \t\r\n'.includes(source[pos]!)) pos++;
    return pos > start;
  };
  const expect = (literal: string): void => {
    if (!source.startsWith(literal, pos)) fail(`expected ${JSON.stringify(literal)}`);
    pos += literal.length;
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const match = NAME.exec(source);
    if (!match) return fail('expected a name');
    pos += match[0].length;
    return match[0];
  };
  const skipUntil = (terminator: string, what: string): string => {
    const end = source.indexOf(terminator, pos);
    if (end < 0) fail(`unterminated ${what}`);
    const body = source.slice(pos, end);
    pos = end + terminator.length;
    return body;
  };
  // Every `&` must start a reference to a predefined entity or a legal character.
  const decode = (raw: string): string =>
    raw.replace(/&([^;&]*)(;?)/g, (_match, ref: string, semicolon: string) => {
      if (semicolon !== ';') return fail(`bare & in ${JSON.stringify(raw)}`);
      if (ref in PREDEFINED) return PREDEFINED[ref]!;
      const numeric = /^#(?:([0-9]+)|x([0-9a-fA-F]+))$/.exec(ref);
      if (!numeric) return fail(`unknown entity &${ref};`);
      const cp = numeric[1] !== undefined ? Number.parseInt(numeric[1], 10) : Number.parseInt(numeric[2]!, 16);
      if (!legalCodePoint(cp)) return fail(`reference to an illegal character &${ref};`);
      return String.fromCodePoint(cp);
    });
  // Comments, processing instructions and space: all that may sit outside the root.
  const skipMisc = (): void => {
    for (;;) {
      if (skipSpace()) continue;
      if (source.startsWith('<!--', pos)) {
        pos += 4;
        if (skipUntil('-->', 'comment').includes('--')) fail('"--" inside a comment');
      } else if (source.startsWith('<?', pos)) {
        pos += 2;
        if (readName().toLowerCase() === 'xml') fail('XML declaration not at the start');
        skipUntil('?>', 'processing instruction');
      } else {
        return;
      }
    }
  };

  const element = (): XmlElement => {
    expect('<');
    const node: XmlElement = { name: readName(), attributes: {}, children: [] };
    for (;;) {
      const spaced = skipSpace();
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return node;
      }
      if (source[pos] === '>') {
        pos++;
        break;
      }
      if (!spaced) fail('expected space between attributes');
      const name = readName();
      if (name in node.attributes) fail(`duplicate attribute ${name}`);
      skipSpace();
      expect('=');
      skipSpace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") return fail('attribute value not quoted');
      pos++;
      const raw = skipUntil(quote, 'attribute value');
      if (raw.includes('<')) fail('< in an attribute value');
      node.attributes[name] = decode(raw);
    }
    for (;;) {
      if (pos >= source.length) fail(`<${node.name}> never closed`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const name = readName();
        if (name !== node.name) fail(`</${name}> closes <${node.name}>`);
        skipSpace();
        expect('>');
        return node;
      }
      if (source.startsWith('<![CDATA[', pos)) {
        pos += 9;
        node.children.push(skipUntil(']]>', 'CDATA section'));
      } else if (source.startsWith('<!--', pos) || source.startsWith('<?', pos)) {
        skipMisc();
      } else if (source[pos] === '<') {
        node.children.push(element());
      } else {
        const end = source.indexOf('<', pos);
        const raw = source.slice(pos, end < 0 ? source.length : end);
        if (raw.includes(']]>')) fail('"]]>" in text');
        pos += raw.length;
        node.children.push(decode(raw));
      }
    }
  };

  if (source.startsWith('<?xml', pos)) skipUntil('?>', 'XML declaration');
  skipMisc();
  if (source.startsWith('<!DOCTYPE', pos)) fail('DOCTYPE is not supported by this checker');
  const root = element();
  skipMisc();
  if (pos !== source.length) fail('content after the root element');
  return root;
}

/** Every element in document order, the root first. */
export function allElements(root: XmlElement): XmlElement[] {
  const found = [root];
  for (const child of root.children) if (typeof child !== 'string') found.push(...allElements(child));
  return found;
}

/** The text content of an element and its descendants. */
export function textOf(element: XmlElement): string {
  return element.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
}
